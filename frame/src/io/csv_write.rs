//! CSV writing.

use std::io::Write;
use std::path::Path;

use crate::column::Column;
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;
use crate::value::Value;

impl DataFrame {
    /// Writes the frame as CSV (header, then rows; the index is not written — call
    /// [`DataFrame::from_labels`] first to keep it). Nulls are empty fields; fields holding
    /// the delimiter, a quote or a line break are quoted; bools are written `True`/`False`
    /// as pandas does.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |source| FrameError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        let mut out = std::io::BufWriter::new(file);
        self.write_csv_to(&mut out).map_err(io)?;
        out.flush().map_err(io)
    }

    /// Writes the frame as CSV to any writer.
    pub fn write_csv_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let header: Vec<String> = self.names.iter().map(|n| quote(n)).collect();
        writeln!(out, "{}", header.join(","))?;
        let mut line = String::new();
        for r in 0..self.nrows() {
            line.clear();
            for (c, col) in self.columns.iter().enumerate() {
                if c > 0 {
                    line.push(',');
                }
                line.push_str(&cell(col, r));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

fn cell(col: &Column, r: usize) -> String {
    match col.get(r) {
        Value::Null => String::new(),
        Value::Float(f) if f.is_nan() => String::new(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
        Value::Str(s) => quote(&s),
        v => v.to_string(),
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
