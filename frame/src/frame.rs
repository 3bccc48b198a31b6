//! The dataframe: ordered rows and columns, row labels, column labels, a domain per column.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use rayon::prelude::*;

use crate::column::Column;
use crate::dtype::DType;
use crate::error::{FrameError, Result};
use crate::index::Index;
use crate::value::{KeyValue, Value};

/// A dataframe (A, R, C, D) in the paper's terms: a grid of values with ordered row labels
/// ([`Index`]), ordered unique column labels, and a [`DType`] per column. Columns are shared
/// (`Arc`), so projections, renames and label changes copy no data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFrame {
    pub(crate) names: Vec<String>,
    pub(crate) columns: Vec<Arc<Column>>,
    pub(crate) index: Index,
}

impl DataFrame {
    /// A frame from labelled columns, with a positional index. Errors when lengths differ or
    /// a label repeats.
    pub fn new<S: Into<String>>(columns: Vec<(S, Column)>) -> Result<DataFrame> {
        let (names, columns): (Vec<String>, Vec<Arc<Column>>) = columns
            .into_iter()
            .map(|(n, c)| (n.into(), Arc::new(c)))
            .unzip();
        let rows = columns.first().map_or(0, |c| c.len());
        DataFrame::from_parts(names, columns, Index::Range(rows))
    }

    /// A frame from its parts, checked: unique labels, every column and the index of one
    /// length.
    pub fn from_parts(
        names: Vec<String>,
        columns: Vec<Arc<Column>>,
        index: Index,
    ) -> Result<DataFrame> {
        let rows = index.len();
        let mut seen = HashSet::new();
        for (name, col) in names.iter().zip(&columns) {
            if !seen.insert(name) {
                return Err(FrameError::DuplicateColumn {
                    label: name.clone(),
                });
            }
            if col.len() != rows {
                return Err(FrameError::LengthMismatch {
                    what: format!("column {name:?}"),
                    expected: rows,
                    actual: col.len(),
                });
            }
        }
        if names.len() != columns.len() {
            return Err(FrameError::LengthMismatch {
                what: "column labels".into(),
                expected: columns.len(),
                actual: names.len(),
            });
        }
        Ok(DataFrame {
            names,
            columns,
            index,
        })
    }

    /// A frame from rows of values; each column's type is induced from its values.
    pub fn from_rows<S: Into<String>>(names: Vec<S>, rows: Vec<Vec<Value>>) -> Result<DataFrame> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let mut cols: Vec<Vec<Value>> = vec![Vec::with_capacity(rows.len()); names.len()];
        for (r, row) in rows.into_iter().enumerate() {
            if row.len() != names.len() {
                return Err(FrameError::LengthMismatch {
                    what: format!("row {r}"),
                    expected: names.len(),
                    actual: row.len(),
                });
            }
            for (c, v) in row.into_iter().enumerate() {
                cols[c].push(v);
            }
        }
        let nrows = cols.first().map_or(0, Vec::len);
        let columns = cols
            .into_iter()
            .map(|v| Arc::new(Column::from_values(v)))
            .collect();
        DataFrame::from_parts(names, columns, Index::Range(nrows))
    }

    /// A frame with no rows and no columns.
    pub fn empty() -> DataFrame {
        DataFrame {
            names: Vec::new(),
            columns: Vec::new(),
            index: Index::Range(0),
        }
    }

    /// (rows, columns).
    pub fn shape(&self) -> (usize, usize) {
        (self.nrows(), self.ncols())
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.index.len()
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.columns.len()
    }

    /// Column labels in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Column types in order.
    pub fn dtypes(&self) -> Vec<DType> {
        self.columns.iter().map(|c| c.dtype()).collect()
    }

    /// The row labels.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The columns in order.
    pub fn columns(&self) -> &[Arc<Column>] {
        &self.columns
    }

    /// Position of a column label.
    pub fn position(&self, name: &str) -> Result<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| FrameError::UnknownColumn {
                label: name.to_string(),
            })
    }

    /// The column with label `name`.
    pub fn column(&self, name: &str) -> Result<&Column> {
        Ok(&self.columns[self.position(name)?])
    }

    /// The cell at row position `row` in column `name`.
    pub fn get(&self, row: usize, name: &str) -> Result<Value> {
        let col = self.column(name)?;
        if row >= self.nrows() {
            return Err(FrameError::OutOfBounds {
                position: row,
                len: self.nrows(),
            });
        }
        Ok(col.get(row))
    }

    /// Row `row` as values, in column order.
    pub fn row(&self, row: usize) -> Result<Vec<Value>> {
        if row >= self.nrows() {
            return Err(FrameError::OutOfBounds {
                position: row,
                len: self.nrows(),
            });
        }
        Ok(self.columns.iter().map(|c| c.get(row)).collect())
    }

    /// All rows as values (row-major), for tests and small frames.
    pub fn to_rows(&self) -> Vec<Vec<Value>> {
        (0..self.nrows())
            .map(|r| self.columns.iter().map(|c| c.get(r)).collect())
            .collect()
    }

    /// Projection by labels, in the order given.
    pub fn select(&self, names: &[&str]) -> Result<DataFrame> {
        let pos = names
            .iter()
            .map(|n| self.position(n))
            .collect::<Result<Vec<_>>>()?;
        self.select_positions(&pos)
    }

    /// Projection by column positions.
    pub fn select_positions(&self, positions: &[usize]) -> Result<DataFrame> {
        let mut names = Vec::with_capacity(positions.len());
        let mut columns = Vec::with_capacity(positions.len());
        for &p in positions {
            if p >= self.ncols() {
                return Err(FrameError::OutOfBounds {
                    position: p,
                    len: self.ncols(),
                });
            }
            names.push(self.names[p].clone());
            columns.push(Arc::clone(&self.columns[p]));
        }
        DataFrame::from_parts(names, columns, self.index.clone())
    }

    /// Projection by column mask.
    pub fn select_mask(&self, mask: &[bool]) -> Result<DataFrame> {
        check_len("column mask", mask.len(), self.ncols())?;
        self.select_positions(&positions_of(mask))
    }

    /// Keeps the columns whose type is one of `dtypes` (the algebra's filter-by-types).
    pub fn select_dtypes(&self, dtypes: &[DType]) -> DataFrame {
        let pos: Vec<usize> = (0..self.ncols())
            .filter(|&i| dtypes.contains(&self.columns[i].dtype()))
            .collect();
        self.select_positions(&pos).expect("positions are in range")
    }

    /// Drops the columns named.
    pub fn drop(&self, names: &[&str]) -> Result<DataFrame> {
        for n in names {
            self.position(n)?;
        }
        let keep: Vec<usize> = (0..self.ncols())
            .filter(|&i| !names.contains(&self.names[i].as_str()))
            .collect();
        self.select_positions(&keep)
    }

    /// Selection of rows by position, in the order given (pandas' `iloc`); labels follow.
    pub fn take(&self, rows: &[usize]) -> Result<DataFrame> {
        let n = self.nrows();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(FrameError::OutOfBounds {
                position: bad,
                len: n,
            });
        }
        Ok(self.take_unchecked(rows))
    }

    pub(crate) fn take_unchecked(&self, rows: &[usize]) -> DataFrame {
        let columns = self
            .columns
            .par_iter()
            .map(|c| Arc::new(c.take(rows)))
            .collect();
        DataFrame {
            names: self.names.clone(),
            columns,
            index: self.index.take(rows),
        }
    }

    pub(crate) fn take_opt(&self, rows: &[Option<usize>]) -> DataFrame {
        let columns = self
            .columns
            .par_iter()
            .map(|c| Arc::new(c.take_opt(rows)))
            .collect();
        DataFrame {
            names: self.names.clone(),
            columns,
            index: self.index.take_opt(rows),
        }
    }

    /// Selection of rows by mask (`df[mask]`).
    pub fn filter_mask(&self, mask: &[bool]) -> Result<DataFrame> {
        check_len("row mask", mask.len(), self.nrows())?;
        Ok(self.take_unchecked(&positions_of(mask)))
    }

    /// Selection of rows by label (`loc`): each label is one value per index level. All rows
    /// carrying a label are returned, in the order of `labels`.
    pub fn loc(&self, labels: &[Vec<Value>]) -> Result<DataFrame> {
        let positions = self.index.positions();
        let mut rows = Vec::new();
        for label in labels {
            let key: Vec<KeyValue> = label.iter().cloned().map(KeyValue).collect();
            match positions.get(&key) {
                Some(p) => rows.extend_from_slice(p),
                None => {
                    let shown: Vec<String> = label.iter().map(ToString::to_string).collect();
                    return Err(FrameError::UnknownRowLabel {
                        label: shown.join(", "),
                    });
                }
            }
        }
        Ok(self.take_unchecked(&rows))
    }

    /// Rows `start..start + len` (clamped to the frame).
    pub fn slice(&self, start: usize, len: usize) -> DataFrame {
        let start = start.min(self.nrows());
        let len = len.min(self.nrows() - start);
        let rows: Vec<usize> = (start..start + len).collect();
        self.take_unchecked(&rows)
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> DataFrame {
        self.slice(0, n)
    }

    /// The last `n` rows.
    pub fn tail(&self, n: usize) -> DataFrame {
        self.slice(self.nrows().saturating_sub(n), n)
    }

    /// Adds a column, or replaces the one with the same label.
    pub fn with_column(&self, name: &str, column: Column) -> Result<DataFrame> {
        check_len(&format!("column {name:?}"), column.len(), self.nrows())?;
        let mut out = self.clone();
        match self.names.iter().position(|n| n == name) {
            Some(p) => out.columns[p] = Arc::new(column),
            None => {
                out.names.push(name.to_string());
                out.columns.push(Arc::new(column));
            }
        }
        Ok(out)
    }

    /// Converts column `name` to `dtype` (pandas' `astype`).
    pub fn cast(&self, name: &str, dtype: DType) -> Result<DataFrame> {
        let col = self.column(name)?.cast_named(name, dtype)?;
        self.with_column(name, col)
    }

    /// Schema induction: every `Mixed` column whose values share a type becomes typed.
    pub fn infer_types(&self) -> DataFrame {
        let columns = self
            .columns
            .par_iter()
            .map(|c| Arc::new(c.infer_type()))
            .collect();
        DataFrame {
            names: self.names.clone(),
            columns,
            index: self.index.clone(),
        }
    }

    /// Replaces the row labels.
    pub fn with_index(&self, index: Index) -> Result<DataFrame> {
        check_len("index", index.len(), self.nrows())?;
        Ok(DataFrame {
            index,
            ..self.clone()
        })
    }
}

pub(crate) fn check_len(what: &str, actual: usize, expected: usize) -> Result<()> {
    if actual != expected {
        return Err(FrameError::LengthMismatch {
            what: what.to_string(),
            expected,
            actual,
        });
    }
    Ok(())
}

pub(crate) fn positions_of(mask: &[bool]) -> Vec<usize> {
    mask.iter()
        .enumerate()
        .filter_map(|(i, &m)| m.then_some(i))
        .collect()
}

impl fmt::Display for DataFrame {
    /// A pandas-like table of at most 20 rows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.nrows().min(20);
        let mut grid: Vec<Vec<String>> = Vec::with_capacity(shown + 1);
        let mut header = vec![String::new()];
        header.extend(self.names.iter().cloned());
        grid.push(header);
        for r in 0..shown {
            let label: Vec<String> = self
                .index
                .label(r)
                .iter()
                .map(ToString::to_string)
                .collect();
            let mut line = vec![label.join(",")];
            line.extend(self.columns.iter().map(|c| {
                match c.get(r) {
                    Value::Float(x) => format!("{x:.6}")
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string(),
                    v => v.to_string(),
                }
            }));
            grid.push(line);
        }
        let widths: Vec<usize> = (0..grid[0].len())
            .map(|c| grid.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
            .collect();
        for line in &grid {
            let cells: Vec<String> = line
                .iter()
                .zip(&widths)
                .map(|(s, w)| format!("{s:>w$}"))
                .collect();
            writeln!(f, "{}", cells.join("  "))?;
        }
        if shown < self.nrows() {
            writeln!(f, "... ({} rows x {} columns)", self.nrows(), self.ncols())?;
        }
        Ok(())
    }
}
