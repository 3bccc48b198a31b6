//! CSV ingestion (plain or gzip, detected by magic bytes).
//!
//! A column is numeric when every non-null cell parses as a finite number, otherwise text.
//! Empty cells and `NA` are null. Quoting follows RFC 4180 (fields may hold the delimiter,
//! line breaks and doubled quotes); malformed text is an [`Error::Csv`] with its line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};
use crate::table::{Column, NULL_TEXT, Table};

/// How to read a CSV file.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// Read at most this many data rows (`None`: all).
    pub max_rows: Option<usize>,
    /// Cells equal to one of these (after trimming) are null.
    pub null_tokens: Vec<String>,
    /// The field delimiter: `,` by default, `\t` for TSV, `;` for some locales' spreadsheets.
    pub delimiter: char,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            max_rows: None,
            null_tokens: vec![String::new(), "NA".to_owned()],
            delimiter: ',',
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
///
/// RFC 4180 quoting: a field that starts with `"` may hold delimiters, line breaks and
/// doubled quotes (`""`). Lines end with `\n` or `\r\n`; blank lines are skipped; a UTF-8
/// byte-order mark before the header is dropped.
pub fn read(mut reader: impl Read, opts: &CsvOptions) -> Result<Table> {
    if ['"', '\n', '\r'].contains(&opts.delimiter) {
        return Err(Error::Config(format!(
            "CSV delimiter {:?} would be ambiguous",
            opts.delimiter
        )));
    }
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).map_err(|source| Error::Io {
        path: "<reader>".into(),
        source,
    })?;
    let text = decode(&bytes)?;
    let mut records = Records::new(text, opts.delimiter);
    let (_, names) = records.next().ok_or(Error::EmptyTable("no header row"))??;
    // Each column keeps its distinct texts once and a u32 per row: a string per cell would
    // take ten times the file's size in memory.
    let mut columns: Vec<Interner> = names.iter().map(|_| Interner::default()).collect();
    for (rows, record) in records.enumerate() {
        if opts.max_rows.is_some_and(|m| rows >= m) {
            break;
        }
        let (line, fields) = record?;
        if fields.len() != names.len() {
            return Err(Error::Csv {
                line,
                reason: format!("{} fields, header has {}", fields.len(), names.len()),
            });
        }
        for (col, f) in columns.iter_mut().zip(fields) {
            let null = opts.null_tokens.iter().any(|t| t == f.trim());
            col.push((!null).then_some(f));
        }
    }
    Table::from_encoded(
        names
            .into_iter()
            .zip(columns)
            .map(|(name, col)| col.into_column(name))
            .collect(),
    )
}

/// One column's distinct cell texts (each stored once) and per row the index of its text.
#[derive(Default)]
struct Interner {
    index: HashMap<String, u32>,
    ids: Vec<u32>,
}

impl Interner {
    fn push(&mut self, cell: Option<String>) {
        let id = match cell {
            None => NULL_TEXT,
            Some(text) => match self.index.get(&text) {
                Some(&id) => id,
                None => {
                    let id = self.index.len() as u32;
                    self.index.insert(text, id);
                    id
                }
            },
        };
        self.ids.push(id);
    }

    fn into_column(self, name: String) -> Column {
        let mut texts = vec![String::new(); self.index.len()];
        for (text, id) in self.index {
            texts[id as usize] = text;
        }
        Column::from_texts(name, texts, self.ids)
    }
}

/// The file's text without a leading byte-order mark; invalid UTF-8 is an error naming the
/// line it is on.
fn decode(bytes: &[u8]) -> Result<&str> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| Error::Csv {
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        reason: "not valid UTF-8 (save the file as UTF-8)".into(),
    })
}

/// The records of CSV text, each with the 1-based line it starts on.
///
/// Written here rather than taken from the `csv` crate because that parser is lenient where
/// this one must not be: an unterminated quote there silently swallows the rest of the file
/// into one field (rows lost without an error), and its line numbers drift after blank lines.
struct Records<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    delimiter: char,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, delimiter: char) -> Self {
        Records {
            chars: text.chars().peekable(),
            delimiter,
            line: 1,
        }
    }

    /// The next record and the line it starts on, or `None` at the end; a blank line is a
    /// record of no fields.
    fn record(&mut self) -> Option<Result<(usize, Vec<String>)>> {
        self.chars.peek()?;
        let start = self.line;
        let mut fields = Vec::new();
        let mut cur = String::new();
        // Whether `cur` began with a quote (so it is a field even when empty).
        let mut was_quoted = false;
        let mut quoted = false;
        while let Some(c) = self.chars.next() {
            if quoted {
                match c {
                    '"' if self.chars.peek() == Some(&'"') => {
                        cur.push('"');
                        self.chars.next();
                    }
                    '"' => quoted = false,
                    c => {
                        if c == '\n' {
                            self.line += 1;
                        }
                        cur.push(c);
                    }
                }
                continue;
            }
            match c {
                '\r' if self.chars.peek() == Some(&'\n') => {}
                '\n' | '\r' => {
                    self.line += 1;
                    break;
                }
                '"' if cur.is_empty() && !was_quoted => {
                    quoted = true;
                    was_quoted = true;
                }
                c if c == self.delimiter => {
                    fields.push(std::mem::take(&mut cur));
                    was_quoted = false;
                }
                c => cur.push(c),
            }
        }
        if quoted {
            return Some(Err(Error::Csv {
                line: start,
                reason: "unterminated quote (the field's closing \" is missing)".into(),
            }));
        }
        if fields.is_empty() && !was_quoted && cur.trim().is_empty() {
            return Some(Ok((start, fields)));
        }
        fields.push(cur);
        Some(Ok((start, fields)))
    }
}

impl Iterator for Records<'_> {
    type Item = Result<(usize, Vec<String>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.record()? {
                Ok((_, fields)) if fields.is_empty() => continue,
                other => return Some(other),
            }
        }
    }
}
