//! Factorization: rows' key values mapped to dense group codes, numbered in order of first
//! appearance. Group-by, joins, duplicate removal and `nunique` all reduce to it.
//!
//! Single columns are hashed in parallel chunks (chunk-local tables, merged in chunk order so
//! first-appearance numbering is global); several key columns combine their codes in mixed
//! radix and factorize the combination. Null (and NaN, pandas' other NA) is a key value of its own, as in pandas' joins
//! and `dropna=False` group-bys; callers that drop null keys ask [`Groups::null_group`].

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use rayon::prelude::*;

use crate::column::{Column, NULL_CODE, PAR_THRESHOLD, Prim};
use crate::partition::filled;
use crate::value::KeyValue;

/// Dense group codes for the rows of one or more key columns.
#[derive(Debug, Clone)]
pub(crate) struct Groups {
    /// The group of each row.
    pub(crate) codes: Vec<u32>,
    /// The first row of each group, in group order.
    pub(crate) first_rows: Vec<usize>,
}

impl Groups {
    /// Number of groups.
    pub(crate) fn len(&self) -> usize {
        self.first_rows.len()
    }

    /// Whether group `g` has a null (or NaN) in any key column.
    pub(crate) fn null_group(&self, keys: &[&Column], g: usize) -> bool {
        keys.iter().any(|k| k.is_missing(self.first_rows[g]))
    }
}

/// A fixed-seed hasher: results are the same on every run (determinism) and fast.
#[derive(Clone, Copy, Default)]
struct Fixed;

impl BuildHasher for Fixed {
    type Hasher = foldhash::quality::FoldHasher<'static>;
    fn build_hasher(&self) -> Self::Hasher {
        foldhash::quality::FixedState::with_seed(0x5eed).build_hasher()
    }
}

/// Factorizes rows by `keys` (at least one column, all of one length).
pub(crate) fn factorize(keys: &[&Column]) -> Groups {
    let singles: Vec<Groups> = keys.par_iter().map(|k| factorize_one(k)).collect();
    let mut singles = singles.into_iter();
    let mut acc = singles.next().expect("at least one key");
    let rest: Vec<Groups> = singles.collect();
    let mut i = 0;
    while i < rest.len() {
        // Combine as many keys as fit one u64 code space in one pass (mixed radix).
        let mut space = acc.len() as u128;
        let mut j = i;
        while j < rest.len() && space * rest[j].len() as u128 <= u64::MAX as u128 {
            space *= rest[j].len() as u128;
            j += 1;
        }
        let (parts, acc_codes) = (&rest[i..j.max(i + 1)], &acc.codes);
        let strides: Vec<u64> = parts.iter().map(|p| p.len() as u64).collect();
        let combine = |r: usize| {
            parts
                .iter()
                .zip(&strides)
                .fold(acc_codes[r] as u64, |c, (p, &s)| c * s + p.codes[r] as u64)
        };
        let n = acc.codes.len();
        let combined: Vec<u64> = if n >= PAR_THRESHOLD {
            (0..n).into_par_iter().map(combine).collect()
        } else {
            (0..n).map(combine).collect()
        };
        let space = acc.len() as u128 * strides.iter().map(|&s| s as u128).product::<u128>();
        acc = if space <= (n as u128).max(1 << 16) * 2 {
            factorize_dense(&combined, space as usize)
        } else {
            factorize_by(n, |r| combined[r])
        };
        i = j.max(i + 1);
    }
    acc
}

fn factorize_one(col: &Column) -> Groups {
    let n = col.len();
    match col {
        Column::Int64(p) | Column::Datetime(p) => {
            let valid = |i: usize| p.is_valid(i);
            let (lo, hi) = int_bounds(p);
            let range = direct_range(lo, hi, n).filter(|&r| r > 0);
            if let Some(range) = range {
                // Small value range: a direct table beats hashing. Slot 0 is null.
                let mapped: Vec<u64> = (0..n)
                    .into_par_iter()
                    .with_min_len(1 << 14)
                    .map(|i| {
                        if valid(i) {
                            (p.values[i] - lo) as u64 + 1
                        } else {
                            0
                        }
                    })
                    .collect();
                factorize_dense(&mapped, range + 1)
            } else {
                factorize_by(n, |i| valid(i).then(|| p.values[i]))
            }
        }
        // NaN and null are one missing key (pandas' NA); ±0 are one key.
        Column::Float64(p) => factorize_by(n, |i| {
            p.get(i)
                .filter(|v| !v.is_nan())
                .map(|v| if v == 0.0 { 0 } else { v.to_bits() })
        }),
        Column::Bool(p) => {
            let mapped: Vec<u64> = (0..n)
                .map(|i| p.get(i).map_or(0, |b| b as u64 + 1))
                .collect();
            factorize_dense(&mapped, 3)
        }
        Column::Utf8(s) => factorize_by(n, |i| s.get(i)),
        Column::Categorical(c) => {
            let k = c.categories.len();
            let mapped: Vec<u64> = c
                .codes
                .iter()
                .map(|&code| {
                    if code == NULL_CODE {
                        0
                    } else {
                        code as u64 + 1
                    }
                })
                .collect();
            factorize_dense(&mapped, k + 1)
        }
        Column::Mixed(v) => {
            let mut map: HashMap<KeyValue, u32> = HashMap::new();
            let mut first_rows = Vec::new();
            let codes = v
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    *map.entry(KeyValue(x.clone())).or_insert_with(|| {
                        first_rows.push(i);
                        (first_rows.len() - 1) as u32
                    })
                })
                .collect();
            Groups { codes, first_rows }
        }
    }
}

/// The smallest and largest valid value, `(i64::MAX, i64::MIN)` when none is. The scan runs
/// in parallel: on 1e7-row join keys it costs as much as a sequential table pass.
pub(crate) fn int_bounds(p: &Prim<i64>) -> (i64, i64) {
    (0..p.len())
        .into_par_iter()
        .with_min_len(1 << 14)
        .filter(|&i| p.is_valid(i))
        .fold(
            || (i64::MAX, i64::MIN),
            |(lo, hi), i| (lo.min(p.values[i]), hi.max(p.values[i])),
        )
        .reduce(|| (i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// How many values `lo..=hi` spans (0 when `lo > hi`: no valid value), when that is small
/// enough for a direct table over `n` rows to beat hashing.
pub(crate) fn direct_range(lo: i64, hi: i64, n: usize) -> Option<usize> {
    let range = (hi as i128 - lo as i128 + 1).max(0) as u128;
    (range <= (n as u128).max(1 << 16) * 2).then_some(range as usize)
}

/// Factorizes values known to lie in `0..space` with a direct table.
fn factorize_dense(values: &[u64], space: usize) -> Groups {
    let mut table = vec![u32::MAX; space];
    let mut first_rows = Vec::new();
    let codes = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let slot = &mut table[v as usize];
            if *slot == u32::MAX {
                *slot = first_rows.len() as u32;
                first_rows.push(i);
            }
            *slot
        })
        .collect();
    Groups { codes, first_rows }
}

/// Factorizes by a hashable key per row. Large inputs are radix-partitioned by hash, so
/// each partition's table is small (cache-resident) and partitions run in parallel without
/// a global merge; groups are then renumbered by first appearance with one scan.
fn factorize_by<K, F>(len: usize, key: F) -> Groups
where
    K: Hash + Eq + Copy + Send + Sync,
    F: Fn(usize) -> K + Sync,
{
    if len < PAR_THRESHOLD {
        return factorize_chunked(len, key);
    }
    // Keys that repeat within a prefix of the rows: scan chunks sequentially with
    // chunk-local tables and merge them — sequential reads beat partitioning's random ones.
    // Keys nearly all distinct: partition by hash, so no table outgrows the cache and no
    // merge is needed.
    let sample = len.min(1 << 16);
    let distinct = {
        let mut seen: std::collections::HashSet<K, Fixed> =
            std::collections::HashSet::with_hasher(Fixed);
        (0..sample).for_each(|i| {
            seen.insert(key(i));
        });
        seen.len()
    };
    if distinct * 10 < sample * 9 {
        return factorize_chunked(len, key);
    }
    const BITS: u32 = 7;
    let parts = 1usize << BITS;
    let part_of = |h: u64| (h >> (64 - BITS)) as usize;
    let hashes: Vec<u64> = (0..len)
        .into_par_iter()
        .map(|i| Fixed.hash_one(key(i)))
        .collect();
    let mut starts = vec![0usize; parts + 1];
    for &h in &hashes {
        starts[part_of(h) + 1] += 1;
    }
    for p in 0..parts {
        starts[p + 1] += starts[p];
    }
    // Scatter rows *and their keys* into partition order, so each partition's table reads
    // its keys sequentially instead of chasing rows across the whole column.
    let mut fill = starts.clone();
    let mut rows = filled(len, 0usize);
    let mut keys = filled(len, key(0));
    for (i, &h) in hashes.iter().enumerate() {
        let p = part_of(h);
        rows[fill[p]] = i;
        keys[fill[p]] = key(i);
        fill[p] += 1;
    }
    drop(hashes);
    let results: Vec<(Vec<u32>, Vec<usize>)> = (0..parts)
        .into_par_iter()
        .map(|p| {
            let part = &rows[starts[p]..starts[p + 1]];
            let part_keys = &keys[starts[p]..starts[p + 1]];
            let mut map: HashMap<K, u32, Fixed> = HashMap::with_hasher(Fixed);
            let mut firsts = Vec::new();
            let codes = part
                .iter()
                .zip(part_keys)
                .map(|(&r, &k)| {
                    *map.entry(k).or_insert_with(|| {
                        firsts.push(r);
                        (firsts.len() - 1) as u32
                    })
                })
                .collect();
            (codes, firsts)
        })
        .collect();
    let mut codes = filled(len, 0u32);
    let mut offset = 0u32;
    let mut first_rows = Vec::new();
    for (p, (local, firsts)) in results.iter().enumerate() {
        for (&r, &c) in rows[starts[p]..starts[p + 1]].iter().zip(local) {
            codes[r] = offset + c;
        }
        offset += firsts.len() as u32;
        first_rows.extend_from_slice(firsts);
    }
    // Renumber groups in order of their first row: mark each first row, then scan.
    let mut group_at = filled(len, u32::MAX);
    for (g, &r) in first_rows.iter().enumerate() {
        group_at[r] = g as u32;
    }
    let mut remap = vec![0u32; first_rows.len()];
    let mut ordered = Vec::with_capacity(first_rows.len());
    for (r, &g) in group_at.iter().enumerate() {
        if g != u32::MAX {
            remap[g as usize] = ordered.len() as u32;
            ordered.push(r);
        }
    }
    codes.par_iter_mut().for_each(|c| *c = remap[*c as usize]);
    Groups {
        codes,
        first_rows: ordered,
    }
}

/// One chunk's codes and its distinct keys with their first rows.
type Local<K> = (Vec<u32>, Vec<(K, usize)>);

/// Factorizes chunk by chunk in parallel with chunk-local tables, then merges the tables in
/// chunk order (first-appearance numbering stays global). Right when keys are few.
fn factorize_chunked<K, F>(len: usize, key: F) -> Groups
where
    K: Hash + Eq + Copy + Send + Sync,
    F: Fn(usize) -> K + Sync,
{
    let chunks = if len >= PAR_THRESHOLD {
        rayon::current_num_threads().max(1) * 2
    } else {
        1
    };
    let ranges = crate::partition::split(len, chunks);
    let locals: Vec<Local<K>> = ranges
        .par_iter()
        .map(|r| {
            let mut map: HashMap<K, u32, Fixed> = HashMap::with_hasher(Fixed);
            let mut uniques = Vec::new();
            let codes = r
                .clone()
                .map(|i| {
                    let k = key(i);
                    *map.entry(k).or_insert_with(|| {
                        uniques.push((k, i));
                        (uniques.len() - 1) as u32
                    })
                })
                .collect();
            (codes, uniques)
        })
        .collect();
    if locals.len() == 1 {
        let (codes, uniques) = locals.into_iter().next().expect("one chunk");
        return Groups {
            codes,
            first_rows: uniques.into_iter().map(|(_, r)| r).collect(),
        };
    }
    let mut global: HashMap<K, u32, Fixed> = HashMap::with_hasher(Fixed);
    let mut first_rows = Vec::new();
    let remaps: Vec<Vec<u32>> = locals
        .iter()
        .map(|(_, uniques)| {
            uniques
                .iter()
                .map(|&(k, row)| {
                    *global.entry(k).or_insert_with(|| {
                        first_rows.push(row);
                        (first_rows.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let codes: Vec<u32> = locals
        .par_iter()
        .zip(remaps.par_iter())
        .flat_map_iter(|((local, _), remap)| local.iter().map(|&c| remap[c as usize]))
        .collect();
    Groups { codes, first_rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::{Prim, Strings};

    #[test]
    fn codes_follow_first_appearance() {
        let a = Column::Utf8(Strings::from_options([
            Some("b"),
            Some("a"),
            None,
            Some("b"),
        ]));
        let g = factorize(&[&a]);
        assert_eq!(g.codes, vec![0, 1, 2, 0]);
        assert_eq!(g.first_rows, vec![0, 1, 2]);
        assert!(g.null_group(&[&a], 2));
    }

    #[test]
    fn multi_key_and_wide_ints_agree_with_a_naive_grouping() {
        let n = 200_000;
        let a = Column::Int64(Prim::new(
            (0..n)
                .map(|i| (i * 7919 % 13) as i64 * 1_000_000_007)
                .collect(),
        ));
        let b = Column::Float64(Prim::from_options((0..n).map(|i| {
            if i % 17 == 0 {
                None
            } else {
                Some((i % 5) as f64)
            }
        })));
        let g = factorize(&[&a, &b]);
        let mut naive: HashMap<(KeyValue, KeyValue), u32> = HashMap::new();
        for i in 0..n as usize {
            let next = naive.len() as u32;
            let code = *naive
                .entry((KeyValue(a.get(i)), KeyValue(b.get(i))))
                .or_insert(next);
            assert_eq!(g.codes[i], code, "row {i}");
        }
        assert_eq!(g.len(), naive.len());
    }
}
