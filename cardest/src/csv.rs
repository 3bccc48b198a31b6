//! CSV ingestion (plain or gzip, detected by magic bytes).
//!
//! A column is numeric when every non-null cell parses as a number, otherwise text. Empty
//! cells and `NA` are null.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::table::Table;
use crate::value::ColumnData;

/// How to read a CSV file.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// Read at most this many data rows (`None`: all).
    pub max_rows: Option<usize>,
    /// Cells equal to one of these (after trimming) are null.
    pub null_tokens: Vec<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            max_rows: None,
            null_tokens: vec![String::new(), "NA".to_owned()],
        }
    }
}

/// Read a CSV (or gzip-compressed CSV) file with a header row.
pub fn read_path(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Table> {
    let path = path.as_ref();
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut buf = BufReader::new(file);
    let gz = buf.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(buf)))
    } else {
        Box::new(buf)
    };
    read(reader, opts).map_err(|e| match e {
        Error::Io { source, .. } => io(source),
        e => e,
    })
}

/// Read CSV text with a header row from any reader.
pub fn read(mut reader: impl Read, opts: &CsvOptions) -> Result<Table> {
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|source| Error::Io {
            path: "<reader>".into(),
            source,
        })?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(Error::EmptyTable("no header row"))?;
    let names = split(header, 1)?;
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    for (i, line) in lines {
        if opts.max_rows.is_some_and(|m| cells[0].len() >= m) {
            break;
        }
        let fields = split(line, i + 1)?;
        if fields.len() != names.len() {
            return Err(Error::Csv {
                line: i + 1,
                reason: format!("{} fields, header has {}", fields.len(), names.len()),
            });
        }
        for (col, f) in cells.iter_mut().zip(fields) {
            let null = opts.null_tokens.iter().any(|t| t == f.trim());
            col.push((!null).then_some(f));
        }
    }
    let columns = names
        .into_iter()
        .zip(cells)
        .map(|(name, vals)| {
            let nums: Option<Vec<Option<f64>>> = vals
                .iter()
                .map(|v| match v {
                    None => Some(None),
                    Some(s) => s
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map(Some),
                })
                .collect();
            let data = match nums {
                Some(n) => ColumnData::Num(n),
                None => ColumnData::Str(vals),
            };
            (name, data)
        })
        .collect();
    Table::from_columns(columns)
}

/// Split one line into fields, honouring double quotes (`""` inside quotes is a quote).
fn split(line: &str, line_no: usize) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err(Error::Csv {
            line: line_no,
            reason: "unterminated quote".into(),
        });
    }
    fields.push(cur);
    Ok(fields)
}
