//! The baselines Stratus is measured against: the exact count (oracle, by a scan),
//! independence (per-column histograms multiplied, as PostgreSQL does), and a uniform row
//! sample.

use stratus_sim::SimRng;

use crate::predicate::{CodeSet, Resolved};
use crate::table::Table;

/// Exact number of rows matching `q`, by scanning the table.
pub fn exact_count(table: &Table, q: &Resolved) -> u64 {
    if q.is_empty() {
        return 0;
    }
    let constrained: Vec<(&[u32], &CodeSet)> = table
        .columns()
        .iter()
        .zip(&q.ranges)
        .filter_map(|(c, r)| r.as_ref().map(|r| (c.codes(), r)))
        .collect();
    (0..table.rows())
        .filter(|&row| constrained.iter().all(|(codes, r)| r.contains(codes[row])))
        .count() as u64
}

/// Independence: exact per-column value frequencies, multiplied across columns.
///
/// This is a strictly better-informed version of PostgreSQL's assumption (it keeps every
/// value's frequency, not only the most common ones plus an equi-depth histogram).
#[derive(Clone, Debug)]
pub struct Independence {
    /// Per column, prefix sums of value counts over codes.
    prefix: Vec<Vec<u64>>,
    rows: usize,
}

impl Independence {
    /// Build the per-column histograms.
    pub fn new(table: &Table) -> Self {
        let prefix = table
            .columns()
            .iter()
            .map(|c| {
                let mut counts = vec![0u64; c.domain() + 1];
                for &code in c.codes() {
                    counts[code as usize + 1] += 1;
                }
                for i in 1..counts.len() {
                    counts[i] += counts[i - 1];
                }
                counts
            })
            .collect();
        Independence {
            prefix,
            rows: table.rows(),
        }
    }

    /// Estimated matching rows.
    pub fn estimate(&self, q: &Resolved) -> f64 {
        let n = self.rows as f64;
        let sel: f64 = q
            .ranges
            .iter()
            .zip(&self.prefix)
            .filter_map(|(r, p)| {
                r.as_ref().map(|set| {
                    let count: u64 = set
                        .ranges()
                        .iter()
                        .map(|r| {
                            let hi = (r.end as usize).min(p.len() - 1);
                            let lo = (r.start as usize).min(hi);
                            p[hi] - p[lo]
                        })
                        .sum();
                    count as f64 / n
                })
            })
            .product();
        sel * n
    }
}

/// A uniform sample of rows (with replacement), scaled up.
#[derive(Clone, Debug)]
pub struct UniformSample {
    /// Sampled rows' codes, row-major.
    codes: Vec<u32>,
    columns: usize,
    rows: usize,
}

impl UniformSample {
    /// Draw `size` rows (at least 1).
    pub fn new(table: &Table, size: usize, seed: u64) -> Self {
        let mut rng = SimRng::new(seed);
        let size = size.max(1);
        let codes = (0..size)
            .flat_map(|_| table.row_codes(rng.below(table.rows() as u64) as usize))
            .collect();
        UniformSample {
            codes,
            columns: table.columns().len(),
            rows: table.rows(),
        }
    }

    /// Number of rows sampled.
    pub fn len(&self) -> usize {
        self.codes.len() / self.columns
    }

    /// True when the sample is empty (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Memory used by the sampled codes, bytes.
    pub fn size_bytes(&self) -> usize {
        self.codes.len() * 4
    }

    /// Estimated matching rows.
    pub fn estimate(&self, q: &Resolved) -> f64 {
        if q.is_empty() {
            return 0.0;
        }
        let hits = self
            .codes
            .chunks(self.columns)
            .filter(|row| {
                q.ranges
                    .iter()
                    .zip(row.iter())
                    .all(|(r, c)| r.as_ref().is_none_or(|r| r.contains(*c)))
            })
            .count();
        hits as f64 / self.len() as f64 * self.rows as f64
    }
}
