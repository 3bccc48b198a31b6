//! Categorical columns: codes into an ordered dictionary of strings.

use std::collections::HashMap;
use std::sync::Arc;

/// The code that marks a null row.
pub(crate) const NULL_CODE: u32 = u32::MAX;

/// Strings as `u32` codes into `categories`. Categories are ordered (sorting and min/max
/// follow the category order, as in pandas' ordered categoricals); built from values, they
/// are sorted bytewise, as pandas does.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorical {
    pub(crate) codes: Vec<u32>,
    pub(crate) categories: Arc<Vec<String>>,
}

impl Categorical {
    /// Encodes optional strings; categories are the distinct values, sorted.
    pub fn from_options<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> Self {
        let values: Vec<Option<S>> = values.into_iter().collect();
        let mut categories: Vec<String> = values
            .iter()
            .flatten()
            .map(|s| s.as_ref().to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        categories.dedup();
        let lookup: HashMap<&str, u32> = categories
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i as u32))
            .collect();
        let codes = values
            .iter()
            .map(|v| v.as_ref().map_or(NULL_CODE, |s| lookup[s.as_ref()]))
            .collect();
        Categorical {
            codes,
            categories: Arc::new(categories),
        }
    }

    /// Codes into `categories` (`u32::MAX` for null); categories must be distinct and every
    /// code in range.
    pub(crate) fn from_parts(codes: Vec<u32>, categories: Vec<String>) -> Self {
        debug_assert!(
            codes
                .iter()
                .all(|&c| c == NULL_CODE || (c as usize) < categories.len())
        );
        Categorical {
            codes,
            categories: Arc::new(categories),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The ordered dictionary.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The codes (`u32::MAX` is null).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// Row `i`, `None` when null.
    pub fn get(&self, i: usize) -> Option<&str> {
        let code = self.codes[i];
        (code != NULL_CODE).then(|| self.categories[code as usize].as_str())
    }

    pub(crate) fn with_codes(&self, codes: Vec<u32>) -> Self {
        Categorical {
            codes,
            categories: Arc::clone(&self.categories),
        }
    }
}

/// Dictionary encoding of text held in row chunks (the CSV reader's per-chunk buffers).
mod encode {
    use std::collections::HashMap;
    use std::hash::{BuildHasher, Hash, Hasher};
    use std::ops::Range;

    use rayon::prelude::*;

    use super::{Categorical, NULL_CODE};
    use crate::column::Strings;
    use crate::partition::{filled, split_mut};

    /// Partitions of the hash-partitioned path: 256 tables of ~4k entries each for 1e6
    /// distinct values, small enough to stay in L2.
    const PART_BITS: u32 = 8;
    const PARTS: usize = 1 << PART_BITS;
    /// Partition from middle hash bits: hashbrown picks buckets from the low bits and tags
    /// from the top seven, which must stay varied inside a partition.
    #[inline]
    fn part_of(h: u64) -> usize {
        ((h >> 32) as usize) & (PARTS - 1)
    }

    #[inline]
    fn hash(s: &str) -> u64 {
        foldhash::fast::FixedState::with_seed(0x5eed).hash_one(s.as_bytes())
    }

    /// A value with its hash computed once, when rows are partitioned.
    #[derive(Clone, Copy)]
    struct Hashed<'a> {
        hash: u64,
        text: &'a str,
    }

    impl PartialEq for Hashed<'_> {
        fn eq(&self, other: &Self) -> bool {
            self.hash == other.hash && self.text == other.text
        }
    }
    impl Eq for Hashed<'_> {}
    impl Hash for Hashed<'_> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            state.write_u64(self.hash);
        }
    }

    /// Hands the precomputed hash to the table unchanged.
    #[derive(Default, Clone, Copy)]
    struct PassThrough;
    #[derive(Default)]
    struct PassThroughHasher(u64);
    impl Hasher for PassThroughHasher {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, _: &[u8]) {
            unreachable!("only precomputed hashes are written")
        }
        fn write_u64(&mut self, h: u64) {
            self.0 = h;
        }
    }
    impl BuildHasher for PassThrough {
        type Hasher = PassThroughHasher;
        fn build_hasher(&self) -> PassThroughHasher {
            PassThroughHasher(0)
        }
    }

    /// Encodes the rows of `parts`, in order; categories are the distinct values sorted
    /// bytewise (pandas' order).
    pub(crate) fn encode(parts: &[Strings]) -> Categorical {
        let rows: usize = parts.iter().map(Strings::len).sum();
        // Few distinct values (a sample of the first rows tells): chunk-local tables stay
        // tiny and merging them is free. Many: partition rows by hash, so each table is small
        // and no merge is needed.
        let sample: std::collections::HashSet<&str, foldhash::fast::FixedState> = parts
            .iter()
            .flat_map(|p| p.iter().flatten())
            .take(1 << 16)
            .collect();
        let (categories, codes) = if sample.len() < 1 << 12 || rows < 1 << 18 {
            local_tables(parts)
        } else {
            partitioned(parts)
        };
        Categorical::from_parts(codes, categories)
    }

    /// Sorts distinct values bytewise and returns them with each one's rank. The sort runs on
    /// a 16-byte big-endian prefix and the length, comparing whole strings only on ties.
    fn sort_distinct(values: &[&str]) -> (Vec<String>, Vec<u32>) {
        let prefix = |s: &str| {
            let mut b = [0u8; 16];
            let n = s.len().min(16);
            b[..n].copy_from_slice(&s.as_bytes()[..n]);
            u128::from_be_bytes(b)
        };
        let mut order: Vec<(u128, u32)> = values
            .par_iter()
            .enumerate()
            .map(|(i, s)| (prefix(s), i as u32))
            .collect();
        order.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| values[a.1 as usize].cmp(values[b.1 as usize]))
        });
        let mut rank = vec![0u32; values.len()];
        for (r, &(_, i)) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let categories = order
            .par_iter()
            .map(|&(_, i)| values[i as usize].to_string())
            .collect();
        (categories, rank)
    }

    /// Chunk-local tables, merged afterwards; right when values are few.
    fn local_tables(parts: &[Strings]) -> (Vec<String>, Vec<u32>) {
        let locals: Vec<(Strings, Vec<u32>)> = parts
            .par_iter()
            .map(|s| encode_strings(s, usize::MAX).expect("no limit on distinct values"))
            .collect();
        let dictionaries: Vec<&Strings> = locals.iter().map(|(values, _)| values).collect();
        let (categories, remaps) = merge_dictionaries(&dictionaries);
        let codes = locals
            .par_iter()
            .zip(&remaps)
            .flat_map_iter(|((_, codes), remap)| {
                codes.iter().map(|&c| {
                    if c == NULL_CODE {
                        NULL_CODE
                    } else {
                        remap[c as usize]
                    }
                })
            })
            .collect();
        (categories, codes)
    }

    /// A string of at most 15 bytes, `data[range]`, as one integer: its bytes, zero-padded,
    /// and its length in the last byte (so `"a"` and `"a\0"` differ). Comparing these is one
    /// integer compare where comparing slices is a `memcmp` call per probe. The bytes are
    /// read as one 16-byte load and masked when the buffer reaches that far: copying a short
    /// value into a zeroed array and reading it back as an integer stalls on the
    /// store-to-load forward.
    #[inline]
    fn packed(data: &[u8], range: Range<usize>) -> Option<u128> {
        let len = range.len();
        if len >= 16 {
            return None;
        }
        let raw = match data.get(range.start..range.start + 16) {
            Some(w) => u128::from_le_bytes(w.try_into().expect("16 bytes")),
            None => {
                let mut b = [0u8; 16];
                b[..len].copy_from_slice(&data[range]);
                u128::from_le_bytes(b)
            }
        };
        let bytes = raw & ((1u128 << (8 * len)) - 1);
        Some(bytes | (len as u128) << 120)
    }

    /// [`encode_chunk`] over a whole string column: its dictionary and one code per row
    /// (nulls get `NULL_CODE`), or `None` past `limit` distinct values.
    fn encode_strings(s: &Strings, limit: usize) -> Option<(Strings, Vec<u32>)> {
        let mut codes: Vec<u32> = (0..s.len())
            .map(|i| if s.is_valid(i) { 0 } else { NULL_CODE })
            .collect();
        let valid = (0..s.len())
            .filter(|&i| s.is_valid(i))
            .map(|i| s.offsets[i]..s.offsets[i + 1]);
        let values = encode_chunk(s.data.as_bytes(), valid, &mut codes, limit)?;
        Some((values, codes))
    }

    /// Codes one row chunk against a dictionary of its own. `valid` yields, in row order,
    /// the byte range in `data` of each row whose entry in `codes` is not [`NULL_CODE`];
    /// each such entry gets its value's code, values numbered in order of first appearance.
    /// Returns the distinct values in that order, or `None` once more than `limit` appear.
    pub(crate) fn encode_chunk(
        data: &[u8],
        mut valid: impl Iterator<Item = Range<usize>>,
        codes: &mut [u32],
        limit: usize,
    ) -> Option<Strings> {
        type Map<K> = HashMap<K, u32, foldhash::fast::FixedState>;
        let mut short: Map<u128> = Map::default();
        let mut long: Map<&[u8]> = Map::default();
        let mut values = Strings::with_capacity(0, 0);
        for code in codes.iter_mut().filter(|c| **c != NULL_CODE) {
            let range = valid.next().expect("one range per valid row");
            let next = values.len() as u32;
            let c = match packed(data, range.clone()) {
                Some(key) => *short.entry(key).or_insert(next),
                None => *long.entry(&data[range.clone()]).or_insert(next),
            };
            if c == next {
                if values.len() == limit {
                    return None;
                }
                // Whole values cut from UTF-8 text at ASCII bytes: this borrows, never
                // replaces.
                values.push(Some(&String::from_utf8_lossy(&data[range])));
            }
            *code = c;
        }
        Some(values)
    }

    /// Merges dictionaries of distinct values (one per row chunk, each in its own code
    /// order): the union sorted bytewise, and per dictionary the final code of each local one.
    pub(crate) fn merge_dictionaries(dictionaries: &[&Strings]) -> (Vec<String>, Vec<Vec<u32>>) {
        let mut global: HashMap<&str, u32, foldhash::fast::FixedState> = HashMap::default();
        let mut distinct = Vec::new();
        let remaps: Vec<Vec<u32>> = dictionaries
            .iter()
            .map(|values| {
                (0..values.len())
                    .map(|i| {
                        let v = values.raw(i);
                        *global.entry(v).or_insert_with(|| {
                            distinct.push(v);
                            (distinct.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        let (categories, rank) = sort_distinct(&distinct);
        let remaps = remaps
            .into_par_iter()
            .map(|m| m.into_iter().map(|g| rank[g as usize]).collect())
            .collect();
        (categories, remaps)
    }

    /// One chunk's valid rows, ordered by partition (stably), with their hashes.
    struct Scattered {
        rows: Vec<u32>,
        hashes: Vec<u64>,
        /// Partition `p` holds `rows[starts[p]..starts[p + 1]]`.
        starts: Vec<usize>,
    }

    fn scatter(s: &Strings) -> Scattered {
        let hashes: Vec<u64> = (0..s.len()).map(|i| hash(s.raw(i))).collect();
        let mut starts = vec![0usize; PARTS + 1];
        for (i, &h) in hashes.iter().enumerate() {
            if s.is_valid(i) {
                starts[part_of(h) + 1] += 1;
            }
        }
        for p in 0..PARTS {
            starts[p + 1] += starts[p];
        }
        let valid = starts[PARTS];
        let mut fill = starts.clone();
        let mut rows = filled(valid, 0u32);
        let mut sorted = filled(valid, 0u64);
        for (i, &h) in hashes.iter().enumerate() {
            if s.is_valid(i) {
                let slot = &mut fill[part_of(h)];
                rows[*slot] = i as u32;
                sorted[*slot] = h;
                *slot += 1;
            }
        }
        Scattered {
            rows,
            hashes: sorted,
            starts,
        }
    }

    /// Hash-partitioned encoding: chunks scatter their rows by hash in parallel, each
    /// partition builds one cache-sized table in parallel, then the distinct values are
    /// sorted once and every chunk writes its codes in parallel.
    fn partitioned(parts: &[Strings]) -> (Vec<String>, Vec<u32>) {
        assert!(
            parts.iter().all(|p| p.len() <= u32::MAX as usize),
            "a CSV chunk holds fewer than 2^32 rows"
        );
        let scattered: Vec<Scattered> = parts.par_iter().map(scatter).collect();
        // Per partition: local codes for its rows (chunk by chunk, in scatter order) and its
        // distinct values by local code.
        let tables: Vec<(Vec<u32>, Vec<&str>)> = (0..PARTS)
            .into_par_iter()
            .map(|p| {
                let len: usize = scattered
                    .iter()
                    .map(|sc| sc.starts[p + 1] - sc.starts[p])
                    .sum();
                let mut map: HashMap<Hashed<'_>, u32, PassThrough> =
                    HashMap::with_capacity_and_hasher(len / 4, PassThrough);
                let mut distinct = Vec::new();
                let mut codes = Vec::with_capacity(len);
                for (sc, text) in scattered.iter().zip(parts) {
                    let range = sc.starts[p]..sc.starts[p + 1];
                    for (&r, &h) in sc.rows[range.clone()].iter().zip(&sc.hashes[range]) {
                        let key = Hashed {
                            hash: h,
                            text: text.raw(r as usize),
                        };
                        codes.push(*map.entry(key).or_insert_with(|| {
                            distinct.push(key.text);
                            (distinct.len() - 1) as u32
                        }));
                    }
                }
                (codes, distinct)
            })
            .collect();
        let mut base = Vec::with_capacity(PARTS);
        let mut all: Vec<&str> = Vec::new();
        for (_, distinct) in &tables {
            base.push(all.len() as u32);
            all.extend_from_slice(distinct);
        }
        let (categories, rank) = sort_distinct(&all);
        // Where each chunk's rows start inside each partition's code list.
        let mut at = vec![0usize; PARTS];
        let seg: Vec<Vec<usize>> = scattered
            .iter()
            .map(|sc| {
                let here = at.clone();
                for (p, a) in at.iter_mut().enumerate() {
                    *a += sc.starts[p + 1] - sc.starts[p];
                }
                here
            })
            .collect();
        let rows: usize = parts.iter().map(Strings::len).sum();
        let mut codes = filled(rows, NULL_CODE);
        split_mut(&mut codes, parts.iter().map(Strings::len))
            .into_par_iter()
            .zip(scattered.par_iter().zip(seg.par_iter()))
            .for_each(|(out, (sc, seg))| {
                for p in 0..PARTS {
                    let local = &tables[p].0[seg[p]..seg[p] + sc.starts[p + 1] - sc.starts[p]];
                    for (&r, &c) in sc.rows[sc.starts[p]..sc.starts[p + 1]].iter().zip(local) {
                        out[r as usize] = rank[(base[p] + c) as usize];
                    }
                }
            });
        (categories, codes)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn check(parts: &[Strings]) {
            let cat = encode(parts);
            let all: Vec<Option<&str>> = parts.iter().flat_map(|p| p.iter()).collect();
            let expected = Categorical::from_options(all.iter().copied());
            assert_eq!(cat.categories(), expected.categories());
            assert_eq!(cat.codes(), expected.codes());
        }

        fn chunk(range: std::ops::Range<u64>, distinct: u64) -> Strings {
            Strings::from_options(range.map(|i| {
                let k = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % distinct;
                // Nulls, and values longer than the 16-byte sort prefix that share it.
                (i % 97 != 0).then(|| {
                    if k.is_multiple_of(3) {
                        format!("a-long-shared-prefix-{k}")
                    } else {
                        format!("id{k:07}")
                    }
                })
            }))
        }

        #[test]
        fn chunk_encoding_stops_past_its_limit() {
            let s = chunk(0..200, 50);
            let run = |limit| encode_strings(&s, limit).map(|(values, _)| values);
            let distinct = s
                .iter()
                .flatten()
                .collect::<std::collections::HashSet<_>>()
                .len();
            assert!(distinct > 10, "{distinct}");
            assert!(run(10).is_none());
            assert_eq!(run(distinct).expect("within the limit").len(), distinct);
        }

        #[test]
        fn both_paths_match_the_simple_encoder() {
            // Few values: chunk-local tables.
            check(&[
                chunk(0..1000, 7),
                chunk(1000..3000, 7),
                Strings::with_capacity(0, 0),
            ]);
            // Many values over many rows: the hash-partitioned path.
            let parts: Vec<Strings> = (0..4)
                .map(|c| chunk(c * 100_000..(c + 1) * 100_000, 150_000))
                .collect();
            check(&parts);
        }
    }
}

pub(crate) use encode::{encode as encode_text, encode_chunk, merge_dictionaries};
