//! Duplicate removal and difference.

use crate::column::Column;
use crate::error::{FrameError, Result};
use crate::factorize::factorize;
use crate::frame::DataFrame;

/// Which of a set of duplicate rows [`DataFrame::drop_duplicates`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The first occurrence.
    First,
    /// The last occurrence.
    Last,
    /// None of them: every duplicated row goes.
    None,
}

impl DataFrame {
    /// Removes duplicate rows, comparing the `subset` columns (all when `None`); NaN equals
    /// NaN and null equals null, as in pandas. Kept rows stay in order with their labels.
    pub fn drop_duplicates(&self, subset: Option<&[&str]>, keep: Keep) -> Result<DataFrame> {
        if self.nrows() == 0 || self.ncols() == 0 {
            return Ok(self.clone());
        }
        let cols: Vec<&Column> = match subset {
            Some(names) => names
                .iter()
                .map(|n| self.column(n))
                .collect::<Result<_>>()?,
            None => self.columns.iter().map(AsRef::as_ref).collect(),
        };
        if cols.is_empty() {
            return Err(FrameError::InvalidArgument(
                "drop_duplicates needs at least one column".into(),
            ));
        }
        let groups = factorize(&cols);
        let mut count = vec![0u32; groups.len()];
        let mut last = vec![0usize; groups.len()];
        for (i, &c) in groups.codes.iter().enumerate() {
            count[c as usize] += 1;
            last[c as usize] = i;
        }
        let rows: Vec<usize> = (0..self.nrows())
            .filter(|&i| {
                let g = groups.codes[i] as usize;
                match keep {
                    Keep::First => groups.first_rows[g] == i,
                    Keep::Last => last[g] == i,
                    Keep::None => count[g] == 1,
                }
            })
            .collect();
        Ok(self.take_unchecked(&rows))
    }

    /// The rows of `self` that do not occur in `other` (an anti-join on every column; both
    /// frames need the same column labels, matched by label). Duplicates within `self` are
    /// kept, in order.
    pub fn difference(&self, other: &DataFrame) -> Result<DataFrame> {
        let mut mine: Vec<&str> = self.names.iter().map(String::as_str).collect();
        let mut theirs: Vec<&str> = other.names.iter().map(String::as_str).collect();
        mine.sort_unstable();
        theirs.sort_unstable();
        if mine != theirs {
            return Err(FrameError::InvalidArgument(format!(
                "difference needs the same column labels on both sides ({:?} vs {:?})",
                self.names, other.names
            )));
        }
        if self.ncols() == 0 {
            return Ok(self.clone());
        }
        let n = self.nrows();
        let stacked = self
            .names
            .iter()
            .map(|name| {
                let (a, b) = (self.column(name)?, other.column(name)?);
                let (a, b) = if a.dtype() == b.dtype() {
                    (a.clone(), b.clone())
                } else {
                    let t = a.dtype().promote(b.dtype());
                    (a.cast(t)?, b.cast(t)?)
                };
                Ok(Column::concat(&[&a, &b]))
            })
            .collect::<Result<Vec<_>>>()?;
        if n + other.nrows() == 0 {
            return Ok(self.clone());
        }
        let groups = factorize(&stacked.iter().collect::<Vec<_>>());
        let mut in_other = vec![false; groups.len()];
        for &c in &groups.codes[n..] {
            in_other[c as usize] = true;
        }
        let rows: Vec<usize> = (0..n)
            .filter(|&i| !in_other[groups.codes[i] as usize])
            .collect();
        Ok(self.take_unchecked(&rows))
    }
}
