//! Block partitioning: how a frame is cut into row × column blocks for parallel execution.
//!
//! Columns are stored whole (one contiguous buffer each, which is what vectorised kernels
//! and Arrow want), and blocks are views: a block is a row range of a column range. Cutting
//! therefore costs nothing, and re-shaping into full-axis partitions (whole columns for a
//! cumulative sum, whole rows for a row-wise map) is a change of view, not a copy — where
//! Modin must move data between its block partitions, we only change which ranges each task
//! reads.

use std::ops::Range;

/// The fewest rows or columns a block gets (Modin's minimum block size).
pub const MIN_BLOCK: usize = 32;

/// A grid of `row_parts × col_parts` blocks over a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partitioning {
    /// Number of row partitions.
    pub row_parts: usize,
    /// Number of column partitions.
    pub col_parts: usize,
}

impl Partitioning {
    /// Modin's default: as many partitions per axis as worker threads, each at least
    /// [`MIN_BLOCK`] long.
    pub fn for_shape(rows: usize, cols: usize) -> Partitioning {
        let threads = rayon::current_num_threads().max(1);
        let parts = |len: usize| (len / MIN_BLOCK).clamp(1, threads);
        Partitioning {
            row_parts: parts(rows),
            col_parts: parts(cols),
        }
    }

    /// The row ranges of the row partitions.
    pub fn row_ranges(&self, rows: usize) -> Vec<Range<usize>> {
        split(rows, self.row_parts)
    }

    /// The column ranges of the column partitions.
    pub fn col_ranges(&self, cols: usize) -> Vec<Range<usize>> {
        split(cols, self.col_parts)
    }

    /// Every block as (row range, column range), row-major.
    pub fn blocks(&self, rows: usize, cols: usize) -> Vec<(Range<usize>, Range<usize>)> {
        let cr = self.col_ranges(cols);
        self.row_ranges(rows)
            .into_iter()
            .flat_map(|r| cr.iter().map(move |c| (r.clone(), c.clone())))
            .collect()
    }
}

/// `len` cut into `parts` nearly equal ranges (none empty unless `len` is 0).
pub(crate) fn split(len: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, len.max(1));
    let base = len / parts;
    let extra = len % parts;
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for p in 0..parts {
        let size = base + usize::from(p < extra);
        out.push(start..start + size);
        start += size;
    }
    out
}

/// `n` copies of `value` written by all worker threads at once. A large `vec![value; n]` is
/// filled by one thread (the allocator's memset), and the kernel's work of handing out and
/// clearing fresh pages, which dominates filling a new buffer, then runs on one core too.
pub(crate) fn filled<T: Copy + Send + Sync>(n: usize, value: T) -> Vec<T> {
    use rayon::prelude::*;
    let mut out = Vec::with_capacity(n);
    (0..n)
        .into_par_iter()
        .with_min_len(1 << 16)
        .map(|_| value)
        .collect_into_vec(&mut out);
    out
}

/// `slice` cut into consecutive disjoint pieces of the given lengths (which must not sum past
/// its end), so that parallel tasks can each fill their own piece of one output buffer.
pub(crate) fn split_mut<T>(
    mut slice: &mut [T],
    lens: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    lens.into_iter()
        .map(|n| {
            let (head, tail) = std::mem::take(&mut slice).split_at_mut(n);
            slice = tail;
            head
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_gives_n_defaults() {
        assert_eq!(filled(0, 0u64), Vec::<u64>::new());
        let v = filled(300_000, 0u8);
        assert_eq!(v.len(), 300_000);
        assert!(v.iter().all(|&b| b == 0));
    }

    #[test]
    fn split_mut_cuts_consecutive_pieces() {
        let mut v: Vec<u32> = (0..10).collect();
        let pieces = split_mut(&mut v, [3, 0, 5]);
        let lens: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        assert_eq!(lens, [3, 0, 5]);
        assert_eq!(pieces[0], [0, 1, 2]);
        assert_eq!(pieces[2], [3, 4, 5, 6, 7]);
    }

    #[test]
    fn splits_cover_the_axis_without_gaps() {
        for len in [0, 1, 31, 32, 100, 1001] {
            for parts in 1..6 {
                let ranges = split(len, parts);
                assert_eq!(ranges.first().map(|r| r.start), Some(0));
                assert_eq!(ranges.last().map(|r| r.end), Some(len));
                assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
            }
        }
    }

    #[test]
    fn blocks_respect_the_minimum_size() {
        let p = Partitioning::for_shape(40, 3);
        assert_eq!(p.row_parts, 1);
        assert_eq!(p.col_parts, 1);
        let blocks = p.blocks(40, 3);
        assert_eq!(blocks, vec![(0..40, 0..3)]);
    }
}
