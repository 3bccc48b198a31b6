//! Row labels: positional by default, or one or more label columns (a multi-index).

use std::collections::HashMap;
use std::sync::Arc;

use crate::column::Column;
use crate::value::{KeyValue, Value};

/// The row labels of a frame. `Range(n)` labels rows `0..n` without storing them (pandas'
/// `RangeIndex`); `Labels` holds one column per level. Selecting rows keeps their labels, so
/// a filtered frame's index is no longer a range, as in pandas.
#[derive(Debug, Clone, PartialEq)]
pub enum Index {
    /// Rows labelled by their position.
    Range(usize),
    /// Rows labelled by the values of one or more level columns.
    Labels {
        /// Level names (may be empty strings).
        names: Vec<String>,
        /// One column per level, each as long as the frame.
        levels: Vec<Arc<Column>>,
    },
}

impl Index {
    /// Number of rows labelled.
    pub fn len(&self) -> usize {
        match self {
            Index::Range(n) => *n,
            Index::Labels { levels, .. } => levels.first().map_or(0, |l| l.len()),
        }
    }

    /// Whether no rows are labelled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A single-level index from one column.
    pub fn from_column(name: impl Into<String>, column: Column) -> Index {
        Index::Labels {
            names: vec![name.into()],
            levels: vec![Arc::new(column)],
        }
    }

    /// The label of row `i`, one value per level.
    pub fn label(&self, i: usize) -> Vec<Value> {
        match self {
            Index::Range(_) => vec![Value::Int(i as i64)],
            Index::Labels { levels, .. } => levels.iter().map(|l| l.get(i)).collect(),
        }
    }

    /// Number of levels.
    pub fn nlevels(&self) -> usize {
        match self {
            Index::Range(_) => 1,
            Index::Labels { levels, .. } => levels.len(),
        }
    }

    /// The labels as columns (a range index materialises as Int64 positions).
    pub fn to_columns(&self) -> Vec<(String, Arc<Column>)> {
        match self {
            Index::Range(n) => vec![(
                "index".to_string(),
                Arc::new(Column::from_i64((0..*n as i64).collect())),
            )],
            Index::Labels { names, levels } => {
                names.iter().cloned().zip(levels.iter().cloned()).collect()
            }
        }
    }

    pub(crate) fn take(&self, idx: &[usize]) -> Index {
        match self {
            Index::Range(_) => Index::from_column(
                "",
                Column::from_i64(idx.iter().map(|&i| i as i64).collect()),
            ),
            Index::Labels { names, levels } => Index::Labels {
                names: names.clone(),
                levels: levels.iter().map(|l| Arc::new(l.take(idx))).collect(),
            },
        }
    }

    pub(crate) fn take_opt(&self, idx: &[Option<usize>]) -> Index {
        match self {
            Index::Range(_) => Index::from_column(
                "",
                Column::from(idx.iter().map(|i| i.map(|i| i as i64)).collect::<Vec<_>>()),
            ),
            Index::Labels { names, levels } => Index::Labels {
                names: names.clone(),
                levels: levels.iter().map(|l| Arc::new(l.take_opt(idx))).collect(),
            },
        }
    }

    /// Positions of each label, for label lookups and alignment.
    pub(crate) fn positions(&self) -> HashMap<Vec<KeyValue>, Vec<usize>> {
        let mut map: HashMap<Vec<KeyValue>, Vec<usize>> = HashMap::new();
        for i in 0..self.len() {
            map.entry(self.label(i).into_iter().map(KeyValue).collect())
                .or_default()
                .push(i);
        }
        map
    }

    pub(crate) fn concat(parts: &[&Index]) -> Index {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if parts.iter().all(|p| matches!(p, Index::Range(_))) && parts.len() <= 1 {
            return Index::Range(total);
        }
        let nlevels = parts.iter().map(|p| p.nlevels()).max().unwrap_or(1);
        let names = match parts.iter().find_map(|p| {
            if let Index::Labels { names, .. } = p {
                Some(names.clone())
            } else {
                None
            }
        }) {
            Some(n) if n.len() == nlevels => n,
            _ => vec![String::new(); nlevels],
        };
        let levels = (0..nlevels)
            .map(|l| {
                let cols: Vec<Column> = parts
                    .iter()
                    .map(|p| match p {
                        Index::Range(n) => Column::from_i64((0..*n as i64).collect()),
                        Index::Labels { levels, .. } => levels.get(l).map_or_else(
                            || Column::nulls(crate::DType::Mixed, p.len()),
                            |c| (**c).clone(),
                        ),
                    })
                    .collect();
                Arc::new(Column::concat(&cols.iter().collect::<Vec<_>>()))
            })
            .collect();
        Index::Labels { names, levels }
    }
}
