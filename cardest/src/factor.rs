//! Column factorization (NeuroCard, Yang et al., arXiv 2006.08109): a column with a large
//! domain is shown to the model as several *sub-columns*, the digits of its code in a base
//! `B`, most significant first.
//!
//! A column of `D` codes is split when `D > 2^bits` ([`crate::MadeConfig::factor_bits`]):
//! into the fewest digits `k` with `(2^bits)^k >= D`, in the smallest base `B` with
//! `B^k >= D` (so the digits are balanced: `time_hour`'s 6,936 codes become a high digit of
//! 83 values and a low digit of 84 instead of one softmax of 6,936). The high digit's
//! domain is `⌈D / B^(k-1)⌉`, every lower digit's is `B`. Digits keep code order (a code's
//! digits compare lexicographically as the code does), so a range of codes is, for each
//! value of the higher digits, a range of the next digit.
//!
//! The model sees sub-columns as ordinary columns. The estimator turns a column's allowed
//! [`CodeSet`] into one constraint per digit, conditioned on the digits already sampled
//! ([`Factor::digit_ranges`]): the high digit may be `h` when some allowed code has high
//! digit `h`; the next digit, given `h`, may be `l` when some allowed code starts with
//! `h, l`; and so on. Every digit value allowed this way has at least one allowed
//! continuation, so no sampled path dead-ends.

use std::ops::Range;

use crate::predicate::CodeSet;

/// How one table column is presented to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Factor {
    /// The column's domain (number of codes).
    pub domain: usize,
    /// The digits' base (the domain itself when the column is not split).
    pub base: u32,
    /// Number of digits (sub-columns); 1 when the column is not split.
    pub digits: u32,
}

impl Factor {
    /// The split of a column of `domain` codes for a digit width of `bits` bits (0: never
    /// split; widths of 32 bits or more never split either, since codes are `u32`).
    pub fn plan(domain: usize, bits: u32) -> Factor {
        let whole = Factor {
            domain,
            base: domain as u32,
            digits: 1,
        };
        if bits == 0 || bits >= 32 || domain as u64 <= 1u64 << bits {
            return whole;
        }
        let d = domain as u64;
        let mut k = 2u32;
        while (1u64 << bits).saturating_pow(k) < d {
            k += 1;
        }
        // The smallest base with base^k >= d: start from the float root and correct it.
        let mut b = (d as f64).powf(1.0 / f64::from(k)).ceil().max(2.0) as u64;
        while b > 2 && (b - 1).saturating_pow(k) >= d {
            b -= 1;
        }
        while b.saturating_pow(k) < d {
            b += 1;
        }
        Factor {
            domain,
            base: b as u32,
            digits: k,
        }
    }

    /// Whether the column is split into more than one digit.
    pub fn is_split(&self) -> bool {
        self.digits > 1
    }

    /// The weight of the digit at `level` (0 = most significant): `base^(digits-1-level)`.
    fn place(&self, level: u32) -> u64 {
        u64::from(self.base).pow(self.digits - 1 - level)
    }

    /// The sub-columns' domains, most significant first.
    pub fn sub_domains(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.digits).map(|level| {
            if level == 0 {
                (self.domain as u64).div_ceil(self.place(0)) as usize
            } else {
                self.base as usize
            }
        })
    }

    /// The digits of `code`, most significant first.
    pub fn split(&self, code: u32) -> impl Iterator<Item = u32> + '_ {
        (0..self.digits).map(move |level| {
            let d = u64::from(code) / self.place(level);
            if level == 0 {
                d as u32
            } else {
                (d % u64::from(self.base)) as u32
            }
        })
    }

    /// The code whose digits are `digits` (most significant first).
    pub fn join(&self, digits: &[u32]) -> u32 {
        digits
            .iter()
            .fold(0u64, |acc, &d| acc * u64::from(self.base) + u64::from(d)) as u32
    }

    /// The number of values of the digit at `level`, given the higher digits `prefix`, that
    /// lead to some code of the domain: all of the sub-column's values except in the block
    /// of the last code, where the digits past it lead nowhere. (The network's softmax also
    /// covers those; the estimator renormalises over the valid ones, so that a column's
    /// codes have probability one in total.)
    pub fn valid_digits(&self, level: u32, prefix: u32) -> u32 {
        let place = self.place(level);
        let lo = u64::from(prefix) * place * u64::from(self.base);
        let left = (self.domain as u64).saturating_sub(lo).div_ceil(place);
        let width = if level == 0 {
            (self.domain as u64).div_ceil(self.place(0))
        } else {
            u64::from(self.base)
        };
        left.min(width) as u32
    }

    /// Append to `out` the allowed values of the digit at `level` when the codes allowed are
    /// `set` and the higher digits are those of `prefix` (the number they form, e.g. the high
    /// digit itself at level 1; 0 at level 0): the digits `l` such that some code in `set`
    /// starts with `prefix, l`. `out` receives sorted, disjoint, non-adjacent ranges.
    pub fn digit_ranges(&self, set: &CodeSet, level: u32, prefix: u32, out: &mut Vec<Range<u32>>) {
        let place = self.place(level);
        let span = place * u64::from(self.base);
        let lo = u64::from(prefix) * span;
        let hi = lo + span;
        let ranges = set.ranges();
        // Skip the ranges that end before this prefix's block of codes.
        let first = ranges.partition_point(|r| u64::from(r.end) <= lo);
        let mut last_end: Option<u32> = None;
        for r in &ranges[first..] {
            let (a, b) = (u64::from(r.start).max(lo), u64::from(r.end).min(hi));
            if a >= b {
                break;
            }
            let start = ((a - lo) / place) as u32;
            let end = ((b - 1 - lo) / place) as u32 + 1;
            match (last_end, out.last_mut()) {
                (Some(e), Some(prev)) if start <= e => prev.end = prev.end.max(end),
                _ => out.push(start..end),
            }
            last_end = out.last().map(|r| r.end);
        }
    }
}

/// The factorization of every column of a table, and where each column's sub-columns sit
/// in the model's column order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factorization {
    factors: Vec<Factor>,
    /// First sub-column of each column, then the number of sub-columns.
    starts: Vec<usize>,
    sub_domains: Vec<usize>,
    domains: Vec<usize>,
}

impl Factorization {
    /// Split every column of `domains` whose domain exceeds `2^bits` (0: split none).
    pub fn new(domains: &[usize], bits: u32) -> Self {
        Self::from_factors(domains.iter().map(|&d| Factor::plan(d, bits)).collect())
    }

    /// A factorization from explicit per-column factors.
    pub fn from_factors(factors: Vec<Factor>) -> Self {
        let mut starts = Vec::with_capacity(factors.len() + 1);
        let mut sub_domains = Vec::new();
        for f in &factors {
            starts.push(sub_domains.len());
            sub_domains.extend(f.sub_domains());
        }
        starts.push(sub_domains.len());
        let domains = factors.iter().map(|f| f.domain).collect();
        Factorization {
            factors,
            starts,
            sub_domains,
            domains,
        }
    }

    /// Per-column factors, in table order.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// The table columns' domains.
    pub fn domains(&self) -> &[usize] {
        &self.domains
    }

    /// The sub-columns' domains, in model order (what the network is built on).
    pub fn sub_domains(&self) -> &[usize] {
        &self.sub_domains
    }

    /// The model columns holding table column `col`'s digits.
    pub fn sub_columns(&self, col: usize) -> Range<usize> {
        self.starts[col]..self.starts[col + 1]
    }

    /// The column's codes as digits: `push(sub_column, digit)` for each, in model order.
    pub(crate) fn for_each_digit(&self, col: usize, code: u32, mut push: impl FnMut(usize, u32)) {
        let f = &self.factors[col];
        if f.is_split() {
            for (k, d) in f.split(code).enumerate() {
                push(self.starts[col] + k, d);
            }
        } else {
            push(self.starts[col], code);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plans() {
        let f = Factor::plan(6936, 10);
        assert_eq!((f.base, f.digits), (84, 2));
        assert_eq!(f.sub_domains().collect::<Vec<_>>(), vec![83, 84]);
        assert_eq!(Factor::plan(1024, 10).digits, 1);
        assert_eq!(
            Factor::plan(1025, 10).sub_domains().collect::<Vec<_>>(),
            [32, 33]
        );
        assert_eq!(Factor::plan(6936, 0).digits, 1);
        assert_eq!(Factor::plan(6936, 40).digits, 1);
        let f = Factor::plan(5, 1);
        assert_eq!((f.base, f.digits), (2, 3));
        assert_eq!(f.sub_domains().collect::<Vec<_>>(), vec![2, 2, 2]);
        let f = Factor::plan(100_000, 4);
        assert_eq!((f.base, f.digits), (10, 5));
        assert_eq!(f.sub_domains().collect::<Vec<_>>(), vec![10; 5]);
        let fz = Factorization::new(&[3, 5, 2, 4], 1);
        assert_eq!(fz.sub_domains(), &[2, 2, 2, 2, 2, 2, 2, 2]);
        assert_eq!(fz.sub_columns(1), 2..5);
        assert_eq!(fz.sub_columns(2), 5..6);
    }

    fn brute(f: &Factor, set: &CodeSet, level: u32, prefix: u32) -> Vec<u32> {
        let mut v: Vec<u32> = set
            .codes()
            .filter_map(|c| {
                let digits: Vec<u32> = f.split(c).collect();
                (f.join(&digits[..level as usize]) == prefix).then_some(digits[level as usize])
            })
            .collect();
        v.dedup();
        v
    }

    fn code_set(domain: u32) -> impl Strategy<Value = CodeSet> {
        prop_oneof![
            // A range, as `<=` / `>=` / `=` give.
            (0..domain, 0..domain).prop_map(|(a, b)| CodeSet::range(a.min(b)..a.max(b) + 1)),
            // An IN set.
            proptest::collection::vec(0..domain, 0..12)
                .prop_map(|v| CodeSet::from_ranges(v.into_iter().map(|c| c..c + 1).collect())),
            // A union of ranges (IN intersected with ranges, or several ranges).
            proptest::collection::vec((0..domain, 1..20u32), 0..5).prop_map(move |v| {
                CodeSet::from_ranges(v.into_iter().map(|(a, l)| a..(a + l).min(domain)).collect())
            }),
        ]
    }

    proptest! {
        /// Splitting then joining gives the code back; every digit is inside its
        /// sub-column's domain; digit order is code order.
        #[test]
        fn split_join_round_trip(domain in 1usize..200_000, bits in 0u32..12, a in any::<u32>(), b in any::<u32>()) {
            let f = Factor::plan(domain, bits);
            prop_assert!(u64::from(f.base).pow(f.digits) >= domain as u64);
            let subs: Vec<usize> = f.sub_domains().collect();
            prop_assert_eq!(subs.len(), f.digits as usize);
            if f.is_split() {
                prop_assert!(f.base as u64 <= 1u64 << bits);
                prop_assert!(subs[0] >= 2);
            }
            let (a, b) = (a % domain as u32, b % domain as u32);
            let da: Vec<u32> = f.split(a).collect();
            let db: Vec<u32> = f.split(b).collect();
            prop_assert_eq!(f.join(&da), a);
            for (d, &s) in da.iter().zip(&subs) {
                prop_assert!((*d as usize) < s);
            }
            prop_assert_eq!(da.cmp(&db), a.cmp(&b));
        }

        /// The per-digit constraints equal brute force over the set's codes, for every
        /// level and every prefix that a higher level allows; an allowed digit always has an
        /// allowed continuation (no dead ends).
        #[test]
        fn digit_constraints_match_brute_force(
            (domain, set) in (2u32..300).prop_flat_map(|d| (Just(d), code_set(d))),
            bits in 1u32..5,
        ) {
            let f = Factor::plan(domain as usize, bits);
            // Walk every prefix the constraints allow, level by level.
            let mut prefixes = vec![0u32];
            for level in 0..f.digits {
                let mut next = Vec::new();
                for &p in &prefixes {
                    let mut out = Vec::new();
                    f.digit_ranges(&set, level, p, &mut out);
                    for w in out.windows(2) {
                        prop_assert!(w[0].end < w[1].start, "{:?}", out);
                    }
                    let got: Vec<u32> = out.iter().flat_map(|r| r.clone()).collect();
                    prop_assert_eq!(&got, &brute(&f, &set, level, p));
                    let all = CodeSet::range(0..domain);
                    let valid = brute(&f, &all, level, p);
                    prop_assert_eq!(valid.clone(), (0..f.valid_digits(level, p)).collect::<Vec<_>>());
                    prop_assert!(got.iter().all(|d| valid.contains(d)));
                    if level > 0 || !set.is_empty() {
                        prop_assert!(!got.is_empty(), "dead end at level {} prefix {}", level, p);
                    }
                    next.extend(got.iter().map(|&d| p * f.base + d));
                }
                prefixes = next;
            }
            // The leaves (whole codes) are exactly the set.
            prop_assert_eq!(prefixes, set.codes().collect::<Vec<_>>());
        }
    }
}
