//! Map: cell-wise, row-wise and column-wise functions, each run on the partitions it needs.

use std::sync::Arc;

use rayon::prelude::*;

use crate::column::{Column, PAR_THRESHOLD, Prim};
use crate::error::Result;
use crate::frame::DataFrame;
use crate::partition::Partitioning;
use crate::value::Value;

impl DataFrame {
    /// The block grid operators use for this frame's shape.
    pub fn partitioning(&self) -> Partitioning {
        Partitioning::for_shape(self.nrows(), self.ncols())
    }

    /// Cell-wise map over every cell (Modin's `map` with cell axis): blocks run in parallel,
    /// each column's type is induced from its results.
    pub fn map_cells(&self, f: impl Fn(&Value) -> Value + Sync) -> DataFrame {
        let (rows, cols) = self.shape();
        let grid = self.partitioning();
        let blocks = grid.blocks(rows, cols);
        let results: Vec<Vec<Vec<Value>>> = blocks
            .par_iter()
            .map(|(r, c)| {
                c.clone()
                    .map(|ci| r.clone().map(|ri| f(&self.columns[ci].get(ri))).collect())
                    .collect()
            })
            .collect();
        // Re-assemble: column `ci` is the concatenation of its pieces over the row ranges.
        let col_ranges = grid.col_ranges(cols);
        let mut pieces: Vec<Vec<Value>> = vec![Vec::with_capacity(rows); cols];
        for (block, (_, c)) in results.into_iter().zip(&blocks) {
            for (piece, ci) in block.into_iter().zip(c.clone()) {
                pieces[ci].extend(piece);
            }
        }
        debug_assert_eq!(col_ranges.last().map_or(0, |r| r.end), cols);
        let columns = pieces
            .into_par_iter()
            .map(|v| Arc::new(Column::from_values(v)))
            .collect();
        DataFrame {
            names: self.names.clone(),
            columns,
            index: self.index.clone(),
        }
    }

    /// Row-wise map (full-row partitions, run in parallel): `f` sees each row's values in
    /// column order and returns one value; the result is a column.
    pub fn map_rows(&self, f: impl Fn(&[Value]) -> Value + Sync) -> Column {
        let ranges = self.partitioning().row_ranges(self.nrows());
        let pieces: Vec<Vec<Value>> = ranges
            .par_iter()
            .map(|r| {
                let mut row = Vec::with_capacity(self.ncols());
                r.clone()
                    .map(|i| {
                        row.clear();
                        row.extend(self.columns.iter().map(|c| c.get(i)));
                        f(&row)
                    })
                    .collect()
            })
            .collect();
        Column::from_values(pieces.into_iter().flatten().collect())
    }

    /// Column-wise map (full-column partitions, in parallel): `f` gets each label and column
    /// and returns a column of the same length.
    pub fn map_columns(
        &self,
        f: impl Fn(&str, &Column) -> Result<Column> + Sync,
    ) -> Result<DataFrame> {
        let columns = self
            .names
            .par_iter()
            .zip(self.columns.par_iter())
            .map(|(n, c)| {
                let out = f(n, c)?;
                crate::frame::check_len(&format!("result for column {n:?}"), out.len(), c.len())?;
                Ok(Arc::new(out))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DataFrame {
            names: self.names.clone(),
            columns,
            index: self.index.clone(),
        })
    }

    /// A typed cell map over one numeric column, as floats: `f` runs on each non-null value
    /// in parallel row blocks. Errors when the column is not numeric.
    pub fn map_f64(&self, name: &str, f: impl Fn(f64) -> f64 + Sync) -> Result<Column> {
        let col = self.column(name)?;
        let p = col.numeric(name, "map_f64")?;
        let values: Vec<f64> = if p.len() >= PAR_THRESHOLD {
            p.values.par_iter().map(|&v| f(v)).collect()
        } else {
            p.values.iter().map(|&v| f(v)).collect()
        };
        Ok(Column::Float64(Prim {
            values,
            validity: p.validity,
        }))
    }

    /// A boolean mask from a predicate over one column's values (nulls give `false`), for
    /// [`DataFrame::filter_mask`].
    pub fn mask(&self, name: &str, predicate: impl Fn(&Value) -> bool + Sync) -> Result<Vec<bool>> {
        let col = self.column(name)?;
        Ok((0..col.len())
            .into_par_iter()
            .map(|i| {
                let v = col.get(i);
                !v.is_null() && predicate(&v)
            })
            .collect())
    }

    /// Filter: the rows where `predicate` holds for column `name` (nulls never match).
    pub fn filter(
        &self,
        name: &str,
        predicate: impl Fn(&Value) -> bool + Sync,
    ) -> Result<DataFrame> {
        let mask = self.mask(name, predicate)?;
        self.filter_mask(&mask)
    }
}
