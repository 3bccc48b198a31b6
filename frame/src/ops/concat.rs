//! Concatenation (union) on both axes.

use std::collections::HashMap;
use std::sync::Arc;

use crate::column::Column;
use crate::dtype::DType;
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;
use crate::index::Index;
use crate::value::KeyValue;

impl DataFrame {
    /// Stacks frames vertically (pandas' `concat(axis=0)`): the result has the union of the
    /// column labels in order of first appearance; a frame without a column contributes
    /// nulls; types promote (Int with Float gives Float64, other mixes give `Mixed`). Row
    /// labels are concatenated as they are (they may repeat, as in pandas).
    pub fn concat_rows(frames: &[&DataFrame]) -> Result<DataFrame> {
        let mut names: Vec<String> = Vec::new();
        for f in frames {
            for n in &f.names {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        let columns = names
            .iter()
            .map(|n| {
                let parts: Vec<Column> = frames
                    .iter()
                    .map(|f| match f.column(n) {
                        Ok(c) => c.clone(),
                        Err(_) => {
                            // Missing columns take the type of the present ones when known.
                            let dtype = frames
                                .iter()
                                .find_map(|g| g.column(n).ok().map(Column::dtype))
                                .unwrap_or(DType::Mixed);
                            Column::nulls(dtype, f.nrows())
                        }
                    })
                    .collect();
                Arc::new(Column::concat(&parts.iter().collect::<Vec<_>>()))
            })
            .collect();
        let index = Index::concat(&frames.iter().map(|f| &f.index).collect::<Vec<_>>());
        DataFrame::from_parts(names, columns, index)
    }

    /// Places frames side by side (pandas' `concat(axis=1)`), aligning rows by label: equal
    /// indexes are joined positionally; otherwise the result's rows are the union of labels
    /// in order of first appearance and absent cells are null. Column labels must not repeat
    /// across the frames, and labels must be unique within each index.
    pub fn concat_columns(frames: &[&DataFrame]) -> Result<DataFrame> {
        let Some(first) = frames.first() else {
            return Ok(DataFrame::empty());
        };
        let aligned = frames.iter().all(|f| f.index == first.index);
        let (index, rows): (Index, Vec<Vec<Option<usize>>>) = if aligned {
            (
                first.index.clone(),
                frames
                    .iter()
                    .map(|f| (0..f.nrows()).map(Some).collect())
                    .collect(),
            )
        } else {
            let mut order: Vec<Vec<KeyValue>> = Vec::new();
            let mut slot: HashMap<Vec<KeyValue>, usize> = HashMap::new();
            let mut maps = Vec::new();
            for f in frames {
                let positions = f.index.positions();
                if let Some((label, _)) = positions.iter().find(|(_, p)| p.len() > 1) {
                    let shown: Vec<String> = label.iter().map(|k| k.0.to_string()).collect();
                    return Err(FrameError::InvalidArgument(format!(
                        "cannot align on an index with duplicate label {}",
                        shown.join(",")
                    )));
                }
                for i in 0..f.nrows() {
                    let label: Vec<KeyValue> = f.index.label(i).into_iter().map(KeyValue).collect();
                    if !slot.contains_key(&label) {
                        slot.insert(label.clone(), order.len());
                        order.push(label);
                    }
                }
                maps.push(positions);
            }
            let rows = maps
                .iter()
                .map(|m| order.iter().map(|l| m.get(l).map(|p| p[0])).collect())
                .collect();
            let nlevels = order.first().map_or(1, Vec::len);
            let levels = (0..nlevels)
                .map(|l| {
                    Arc::new(Column::from_values(
                        order.iter().map(|lab| lab[l].0.clone()).collect(),
                    ))
                })
                .collect();
            (
                Index::Labels {
                    names: vec![String::new(); nlevels],
                    levels,
                },
                rows,
            )
        };
        let mut names = Vec::new();
        let mut columns = Vec::new();
        for (f, r) in frames.iter().zip(&rows) {
            for (n, c) in f.names.iter().zip(&f.columns) {
                names.push(n.clone());
                columns.push(if aligned {
                    Arc::clone(c)
                } else {
                    Arc::new(c.take_opt(r))
                });
            }
        }
        DataFrame::from_parts(names, columns, index)
    }
}
