//! Explode: one row per element of a list-like cell.

use std::sync::Arc;

use crate::column::{Column, Strings};
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;

impl DataFrame {
    /// Splits the strings of `column` on `separator` and gives each piece its own row,
    /// repeating the other cells and the row label (pandas'
    /// `df.assign(c=df.c.str.split(sep)).explode("c")`; this crate has no list type, so
    /// list-like cells are separated strings). A null cell stays one null row.
    pub fn explode(&self, column: &str, separator: &str) -> Result<DataFrame> {
        if separator.is_empty() {
            return Err(FrameError::InvalidArgument(
                "explode needs a non-empty separator".into(),
            ));
        }
        let pos = self.position(column)?;
        let col = &self.columns[pos];
        let text: Vec<Option<String>> = match col.as_ref() {
            Column::Utf8(_) | Column::Categorical(_) => (0..col.len())
                .map(|i| match col.get(i) {
                    crate::Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect(),
            other => {
                return Err(FrameError::TypeMismatch {
                    column: column.to_string(),
                    operation: "explode".into(),
                    expected: "a string column".into(),
                    actual: other.dtype(),
                });
            }
        };
        let mut rows = Vec::new();
        let mut pieces = Strings::with_capacity(col.len(), 0);
        for (r, cell) in text.iter().enumerate() {
            match cell {
                None => {
                    rows.push(r);
                    pieces.push(None);
                }
                Some(s) => {
                    for piece in s.split(separator) {
                        rows.push(r);
                        pieces.push(Some(piece));
                    }
                }
            }
        }
        let mut out = self.take_unchecked(&rows);
        out.columns[pos] = Arc::new(Column::Utf8(pieces));
        Ok(out)
    }
}
