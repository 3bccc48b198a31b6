//! A fixed-size set of small integers, used as a memo key.

/// A set of operation indices in `0..len`, stored one bit each.
///
/// Only what the checker needs: the set of linearized operations is hashed into the memo cache
/// at every step, so it must be compact and cheap to hash and compare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Bitset {
    words: Vec<u64>,
}

impl Bitset {
    /// An empty set able to hold `0..len`.
    pub(crate) fn new(len: usize) -> Self {
        Bitset {
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// Adds `i`; out-of-range indices are ignored (the checker never produces them).
    pub(crate) fn insert(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    /// Removes `i`.
    pub(crate) fn remove(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
        }
    }

    /// Whether `i` is in the set.
    #[cfg(test)]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn insert_remove_contains() {
        let mut s = Bitset::new(130);
        for i in [0, 63, 64, 129] {
            assert!(!s.contains(i));
            s.insert(i);
            assert!(s.contains(i));
        }
        s.remove(64);
        assert!(!s.contains(64));
        assert!(s.contains(63));
        s.insert(1000);
        assert!(!s.contains(1000));
    }

    #[test]
    fn equal_sets_hash_equal() {
        let mut a = Bitset::new(100);
        let mut b = Bitset::new(100);
        a.insert(3);
        a.insert(70);
        b.insert(70);
        b.insert(5);
        b.insert(3);
        b.remove(5);
        let set: HashSet<Bitset> = [a.clone()].into_iter().collect();
        assert_eq!(a, b);
        assert!(set.contains(&b));
    }
}
