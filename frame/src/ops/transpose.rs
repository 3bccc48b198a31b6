//! Transpose: rows become columns, with type coercion.

use std::sync::Arc;

use rayon::prelude::*;

use crate::column::Column;
use crate::error::Result;
use crate::frame::DataFrame;
use crate::index::Index;

impl DataFrame {
    /// Swaps rows and columns. The old row labels become column labels (rendered as text;
    /// levels joined with `,`), the old column labels become the index. Each new column
    /// takes the type every old column fits (all Int64 stay Int64, Int64 with Float64 gives
    /// Float64, Categorical gives Utf8, anything else `Mixed` — pandas' `object`); call
    /// [`DataFrame::infer_types`] to re-induce domains. Errors when row labels repeat.
    pub fn transpose(&self) -> Result<DataFrame> {
        let mut target = self
            .columns
            .first()
            .map_or(crate::DType::Mixed, |c| c.dtype());
        for c in &self.columns {
            target = target.promote(c.dtype());
        }
        if target == crate::DType::Categorical {
            target = crate::DType::Utf8;
        }
        let names: Vec<String> = (0..self.nrows())
            .map(|r| {
                self.index
                    .label(r)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        let columns = (0..self.nrows())
            .into_par_iter()
            .map(|r| {
                let values = self.columns.iter().map(|c| c.get(r)).collect();
                Ok(Arc::new(Column::Mixed(values).cast(target)?))
            })
            .collect::<Result<Vec<_>>>()?;
        let index = Index::from_column("", Column::from_strs(&self.names));
        DataFrame::from_parts(names, columns, index)
    }
}
