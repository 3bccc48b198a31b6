//! Moving between labels and data (to_labels / from_labels), and renaming.

use std::sync::Arc;

use crate::error::{FrameError, Result};
use crate::frame::DataFrame;
use crate::index::Index;

impl DataFrame {
    /// Turns columns into the row labels (pandas' `set_index`), removing them from the data.
    pub fn to_labels(&self, columns: &[&str]) -> Result<DataFrame> {
        if columns.is_empty() {
            return Err(FrameError::InvalidArgument(
                "to_labels needs at least one column".into(),
            ));
        }
        let levels = columns
            .iter()
            .map(|c| Ok(Arc::new(self.column(c)?.clone())))
            .collect::<Result<Vec<_>>>()?;
        let rest = self.drop(columns)?;
        DataFrame::from_parts(
            rest.names,
            rest.columns,
            Index::Labels {
                names: columns.iter().map(|c| c.to_string()).collect(),
                levels,
            },
        )
    }

    /// Turns the row labels into leading columns and labels rows by position (pandas'
    /// `reset_index`). Unnamed levels are called `index` (one level) or `level_i`.
    pub fn from_labels(&self) -> Result<DataFrame> {
        let levels = self.index.to_columns();
        let single = levels.len() == 1;
        let mut names = Vec::new();
        let mut columns = Vec::new();
        for (i, (name, col)) in levels.into_iter().enumerate() {
            let name = match name.as_str() {
                "" if single => "index".to_string(),
                "" => format!("level_{i}"),
                _ => name,
            };
            names.push(name);
            columns.push(col);
        }
        names.extend(self.names.iter().cloned());
        columns.extend(self.columns.iter().cloned());
        DataFrame::from_parts(names, columns, Index::Range(self.nrows()))
    }

    /// Drops the row labels, labelling rows by position (`reset_index(drop=True)`).
    pub fn reset_labels(&self) -> DataFrame {
        DataFrame {
            index: Index::Range(self.nrows()),
            ..self.clone()
        }
    }

    /// Renames columns: each `(old, new)` pair; an unknown old label or a resulting
    /// duplicate is an error.
    pub fn rename(&self, mapping: &[(&str, &str)]) -> Result<DataFrame> {
        let mut names = self.names.clone();
        for (old, new) in mapping {
            let p = self.position(old)?;
            names[p] = new.to_string();
        }
        DataFrame::from_parts(names, self.columns.clone(), self.index.clone())
    }
}
