//! A parallel CSV reader with type inference.
//!
//! The file is cut into chunks at record boundaries; chunks parse in parallel, each column
//! of each chunk inferring its own type (Int64 → Float64 → Utf8, plus Bool and optional
//! Datetime). Chunks that disagree are reconciled afterwards: Int64 widens to Float64 in
//! place, and a chunk whose column must become Utf8 is parsed again for that column — the
//! original text is never lost (`"007"` stays `"007"` in a string column).

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::column::cast::parse_float;
use crate::column::{Column, Prim, Strings, encode_text};
use crate::datetime;
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;
use crate::index::Index;

/// The spellings of a missing value, as pandas' `read_csv` recognises them by default.
pub const DEFAULT_NULLS: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

/// How to read a CSV file.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// The field separator.
    pub delimiter: u8,
    /// Whether the first record holds the column labels (otherwise labels are `0, 1, ...`).
    pub has_header: bool,
    /// Field texts that mean null (compared exactly, unquoted or quoted).
    pub null_values: Vec<String>,
    /// Infer `Datetime` for ISO-8601 columns (off by default, like pandas and polars).
    pub parse_dates: bool,
    /// Columns to read as Categorical.
    pub categorical: Vec<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            has_header: true,
            null_values: DEFAULT_NULLS.iter().map(|s| s.to_string()).collect(),
            parse_dates: false,
            categorical: Vec::new(),
        }
    }
}

/// Reads a CSV file (gzip-compressed when the name ends in `.gz`) with default options.
pub fn read_csv(path: impl AsRef<Path>) -> Result<DataFrame> {
    read_csv_with(path, &CsvOptions::default())
}

/// Reads a CSV file with `options`.
pub fn read_csv_with(path: impl AsRef<Path>, options: &CsvOptions) -> Result<DataFrame> {
    let path = path.as_ref();
    let io = |source| FrameError::Io {
        path: path.display().to_string(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
            .map_err(io)?;
        out
    } else {
        raw
    };
    read_csv_bytes(&bytes, options)
}

/// Parses CSV text held in memory.
pub fn read_csv_bytes(bytes: &[u8], options: &CsvOptions) -> Result<DataFrame> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        FrameError::Csv {
            line,
            column: None,
            reason: "the file is not valid UTF-8".into(),
        }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut null_first = [false; 256];
    for n in &options.null_values {
        if let Some(&f) = n.as_bytes().first() {
            null_first[f as usize] = true;
        }
    }
    let parser = Parser {
        text,
        delim: options.delimiter,
        nulls: &options.null_values,
        null_max_len: options
            .null_values
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0),
        null_first,
        parse_dates: options.parse_dates,
    };

    // The first record gives the labels, or only the column count when there is no header.
    let mut header_end = 0;
    let mut fields = Vec::new();
    parser
        .record(&mut header_end, &mut fields)
        .map_err(|reason| FrameError::Csv {
            line: 1,
            column: None,
            reason,
        })?;
    let (names, body_start) = if options.has_header {
        (
            mangle(fields.iter().map(|f| f.text(text).into_owned()).collect()),
            header_end,
        )
    } else {
        ((0..fields.len()).map(|i| i.to_string()).collect(), 0)
    };
    let ncols = names.len();
    let chunks = parser.chunks(body_start);

    // Categorical columns are dictionary-encoded while parsing: no string column is built.
    let initial: Vec<Kind> = names
        .iter()
        .map(|n| {
            if options.categorical.contains(n) {
                Kind::Cat
            } else {
                Kind::Infer
            }
        })
        .collect();
    let mut hints: Vec<Vec<Kind>> = vec![initial; chunks.len()];
    let mut parsed: Vec<Option<Vec<Builder>>> = (0..chunks.len()).map(|_| None).collect();
    // Parse; then reconcile types across chunks, re-parsing the chunks that must change.
    loop {
        let todo: Vec<usize> = (0..chunks.len()).filter(|&c| parsed[c].is_none()).collect();
        let results: Vec<(usize, Result<Vec<Builder>>)> = todo
            .par_iter()
            .map(|&c| (c, parser.parse_chunk(chunks[c].clone(), ncols, &hints[c])))
            .collect();
        for (c, r) in results {
            parsed[c] = Some(r?);
        }
        // Every chunk's type per column, then the type each column needs overall.
        let kinds: Vec<Vec<Kind>> = parsed
            .iter()
            .map(|p| {
                p.as_ref()
                    .expect("parsed")
                    .iter()
                    .map(Builder::kind)
                    .collect()
            })
            .collect();
        let mut changed = false;
        for (c, chunk_kinds) in kinds.iter().enumerate() {
            for (col, &k) in chunk_kinds.iter().enumerate() {
                let target = kinds.iter().fold(Kind::Infer, |a, ks| a.unify(ks[col]));
                if k != target && !k.widens_to(target) {
                    hints[c][col] = target;
                    parsed[c] = None;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let per_chunk: Vec<Vec<Builder>> = parsed.into_iter().map(|p| p.expect("parsed")).collect();
    let nrows: usize = per_chunk
        .iter()
        .map(|c| c.first().map_or(0, Builder::len))
        .sum();
    // Regroup by column, then finish the columns in parallel.
    let mut by_column: Vec<Vec<Builder>> = (0..ncols)
        .map(|_| Vec::with_capacity(per_chunk.len()))
        .collect();
    for chunk in per_chunk {
        for (col, b) in chunk.into_iter().enumerate() {
            by_column[col].push(b);
        }
    }
    let columns: Vec<Arc<Column>> = by_column
        .into_par_iter()
        .map(|parts| {
            let target = parts.iter().fold(Kind::Infer, |a, b| a.unify(b.kind()));
            Ok(Arc::new(finish(parts, target)))
        })
        .collect::<Result<_>>()?;
    let nrows = if ncols == 0 { 0 } else { nrows };
    DataFrame::from_parts(names, columns, Index::Range(nrows))
}

/// pandas' handling of repeated or empty header names: `a, a` → `a, a.1`; `""` →
/// `Unnamed: i`.
fn mangle(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, n) in names.into_iter().enumerate() {
        let base = if n.is_empty() {
            format!("Unnamed: {i}")
        } else {
            n
        };
        let mut name = base.clone();
        let mut k = 1;
        while out.contains(&name) {
            name = format!("{base}.{k}");
            k += 1;
        }
        out.push(name);
    }
    out
}

/// A column type being inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Nothing seen but nulls.
    Infer,
    Int,
    Float,
    Bool,
    Date,
    Str,
    /// Dictionary-encoded text (requested, never inferred).
    Cat,
}

impl Kind {
    fn unify(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Infer, x) | (x, Infer) => x,
            (Int, Float) | (Float, Int) => Float,
            _ => Str,
        }
    }

    /// Whether a chunk of this kind converts to `target` without re-reading its text.
    fn widens_to(self, target: Kind) -> bool {
        matches!((self, target), (Kind::Infer, _) | (Kind::Int, Kind::Float))
    }
}

/// Values of one chunk's column with their validity; the mask is only made at the first
/// null, so a column without nulls never writes (or later copies and scans) one.
struct Vals<T> {
    values: Vec<T>,
    mask: Option<Vec<bool>>,
}

impl<T: Default + Clone> Vals<T> {
    fn with_capacity(rows: usize) -> Self {
        Vals {
            values: Vec::with_capacity(rows),
            mask: None,
        }
    }

    #[inline]
    fn push(&mut self, v: T) {
        self.values.push(v);
        if let Some(m) = &mut self.mask {
            m.push(true);
        }
    }

    fn push_null(&mut self) {
        let len = self.values.len();
        self.mask
            .get_or_insert_with(|| {
                let mut m = Vec::with_capacity(self.values.capacity());
                m.resize(len, true);
                m
            })
            .push(false);
        self.values.push(T::default());
    }

    fn map<U>(self, f: impl Fn(&T) -> U) -> Vals<U> {
        Vals {
            values: self.values.iter().map(f).collect(),
            mask: self.mask,
        }
    }
}

/// One column of one chunk, built as its type is inferred.
enum Builder {
    Nulls(usize),
    Int(Vals<i64>),
    Float(Vals<f64>),
    Bool(Vals<bool>),
    Date(Vals<i64>),
    Str(Strings),
    /// Text of a column to dictionary-encode. Encoding happens after parsing, over this
    /// compact buffer: done during parsing, the streaming file text evicts the dictionary
    /// from cache and every lookup misses (measured 5x slower for 1e5 distinct values).
    Cat(Strings),
}

impl Builder {
    /// A builder with room for `rows` rows (the chunk's line count), so the columns of a
    /// large file are not grown by doubling — each doubling copies, and fresh pages cost the
    /// kernel a zeroing pass.
    fn new(kind: Kind, rows: usize) -> Builder {
        match kind {
            Kind::Infer => Builder::Nulls(0),
            Kind::Int => Builder::Int(Vals::with_capacity(rows)),
            Kind::Float => Builder::Float(Vals::with_capacity(rows)),
            Kind::Bool => Builder::Bool(Vals::with_capacity(rows)),
            Kind::Date => Builder::Date(Vals::with_capacity(rows)),
            Kind::Str => Builder::Str(Strings::with_capacity(rows, 0)),
            Kind::Cat => Builder::Cat(Strings::with_capacity(rows, 0)),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Builder::Nulls(_) => Kind::Infer,
            Builder::Int(..) => Kind::Int,
            Builder::Float(..) => Kind::Float,
            Builder::Bool(..) => Kind::Bool,
            Builder::Date(..) => Kind::Date,
            Builder::Str(_) => Kind::Str,
            Builder::Cat(..) => Kind::Cat,
        }
    }

    fn len(&self) -> usize {
        match self {
            Builder::Nulls(n) => *n,
            Builder::Int(v) | Builder::Date(v) => v.values.len(),
            Builder::Float(v) => v.values.len(),
            Builder::Bool(v) => v.values.len(),
            Builder::Str(s) | Builder::Cat(s) => s.len(),
        }
    }

    /// Once a sample of `seen` rows is parsed, reserves text room for `rows` rows at the
    /// sample's mean length (plus a margin), instead of growing the buffer by doubling.
    fn reserve_text(&mut self, seen: usize, rows: usize) {
        if let Builder::Str(s) | Builder::Cat(s) = self {
            let want = (s.data.len() / seen.max(1) + 1) * rows.saturating_sub(seen) * 9 / 8;
            s.data.reserve(want);
        }
    }

    fn push_null(&mut self) {
        match self {
            Builder::Nulls(n) => *n += 1,
            Builder::Int(v) | Builder::Date(v) => v.push_null(),
            Builder::Float(v) => v.push_null(),
            Builder::Bool(v) => v.push_null(),
            Builder::Str(s) | Builder::Cat(s) => s.push(None),
        }
    }

    /// Pushes a non-null field; `false` when it does not fit the builder's type and the
    /// chunk must be re-parsed with this column as text. `rows` sizes a builder whose type
    /// this field decides.
    fn push(&mut self, field: &str, parse_dates: bool, rows: usize) -> bool {
        loop {
            match self {
                Builder::Nulls(n) => {
                    let n = *n;
                    let kind = if parse_int(field).is_some() {
                        Kind::Int
                    } else if parse_float(field).is_some() {
                        Kind::Float
                    } else if parse_bool(field).is_some() {
                        Kind::Bool
                    } else if parse_dates && datetime::parse(field).is_some() {
                        Kind::Date
                    } else {
                        Kind::Str
                    };
                    *self = Builder::new(kind, rows);
                    for _ in 0..n {
                        self.push_null();
                    }
                }
                Builder::Int(v) => {
                    if let Some(x) = parse_int(field) {
                        v.push(x);
                        return true;
                    }
                    if parse_float(field).is_some() {
                        let ints = std::mem::replace(v, Vals::with_capacity(0));
                        *self = Builder::Float(ints.map(|&x| x as f64));
                        continue;
                    }
                    return false;
                }
                Builder::Float(v) => {
                    let Some(x) = parse_float(field) else {
                        return false;
                    };
                    v.push(x);
                    return true;
                }
                Builder::Bool(v) => {
                    let Some(x) = parse_bool(field) else {
                        return false;
                    };
                    v.push(x);
                    return true;
                }
                Builder::Date(v) => {
                    let Some(x) = datetime::parse(field) else {
                        return false;
                    };
                    v.push(x);
                    return true;
                }
                Builder::Str(s) | Builder::Cat(s) => {
                    s.push(Some(field));
                    return true;
                }
            }
        }
    }
}

/// Concatenates chunks' values (and masks, when any chunk has one) into one column's.
fn concat_vals<T: Default + Copy + Send + Sync>(parts: Vec<Vals<T>>) -> Prim<T> {
    let mut parts = parts;
    if parts.len() == 1 {
        let p = parts.pop().expect("one part");
        return match p.mask {
            Some(m) => Prim::with_validity(p.values, m),
            None => Prim::new(p.values),
        };
    }
    let rows = parts.iter().map(|p| p.values.len()).sum();
    let any_mask = parts.iter().any(|p| p.mask.is_some());
    let mut values = Vec::with_capacity(rows);
    let mut mask = Vec::with_capacity(if any_mask { rows } else { 0 });
    for p in parts {
        if any_mask {
            match p.mask {
                Some(m) => mask.extend_from_slice(&m),
                None => mask.resize(mask.len() + p.values.len(), true),
            }
        }
        values.extend_from_slice(&p.values);
    }
    if any_mask {
        Prim::with_validity(values, mask)
    } else {
        Prim::new(values)
    }
}

/// Concatenates one column's chunk builders into a column of type `target`.
fn finish(parts: Vec<Builder>, target: Kind) -> Column {
    match target {
        Kind::Cat => finish_categorical(parts),
        Kind::Infer => Column::Mixed(vec![
            crate::Value::Null;
            parts.iter().map(Builder::len).sum()
        ]),
        Kind::Str => {
            let mut strings: Vec<Strings> = parts
                .into_iter()
                .map(|p| match p {
                    Builder::Str(s) => s,
                    other => Strings::from_options(vec![None::<&str>; other.len()]),
                })
                .collect();
            Column::Utf8(if strings.len() == 1 {
                strings.pop().expect("one part")
            } else {
                Strings::concat(&strings.iter().collect::<Vec<_>>())
            })
        }
        Kind::Int | Kind::Date => {
            let vals = parts
                .into_iter()
                .map(|p| match p {
                    Builder::Int(v) | Builder::Date(v) => v,
                    other => nulls(other.len()),
                })
                .collect();
            let prim = concat_vals(vals);
            if target == Kind::Int {
                Column::Int64(prim)
            } else {
                Column::Datetime(prim)
            }
        }
        Kind::Float => Column::Float64(concat_vals(
            parts
                .into_iter()
                .map(|p| match p {
                    Builder::Float(v) => v,
                    Builder::Int(v) => v.map(|&x| x as f64),
                    other => nulls(other.len()),
                })
                .collect(),
        )),
        Kind::Bool => Column::Bool(concat_vals(
            parts
                .into_iter()
                .map(|p| match p {
                    Builder::Bool(v) => v,
                    other => nulls(other.len()),
                })
                .collect(),
        )),
    }
}

/// `n` nulls (a chunk whose column held only nulls).
fn nulls<T: Default + Clone>(n: usize) -> Vals<T> {
    Vals {
        values: vec![T::default(); n],
        mask: Some(vec![false; n]),
    }
}

/// Dictionary-encodes a column's chunks (see [`crate::column::encode_text`]).
fn finish_categorical(parts: Vec<Builder>) -> Column {
    let texts: Vec<Strings> = parts
        .into_iter()
        .map(|p| match p {
            Builder::Cat(s) => s,
            other => Strings::from_options(vec![None::<&str>; other.len()]),
        })
        .collect();
    Column::Categorical(encode_text(&texts))
}

fn parse_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return if digits.len() > 18 {
            s.parse().ok()
        } else {
            None
        };
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as i64;
    }
    Some(if neg { -v } else { v })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "True" | "true" | "TRUE" => Some(true),
        "False" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A field as a range of the text, quoted fields remembering to unescape `""`.
#[derive(Clone)]
struct Field {
    range: Range<usize>,
    quoted: bool,
}

impl Field {
    fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let raw = &text[self.range.clone()];
        if self.quoted && raw.contains('"') {
            raw.replace("\"\"", "\"").into()
        } else {
            raw.into()
        }
    }
}

/// Rows parsed before text columns reserve room for the rest of their chunk.
const TEXT_SAMPLE: usize = 1024;

struct Parser<'a> {
    text: &'a str,
    delim: u8,
    nulls: &'a [String],
    /// The longest null spelling, and which bytes null spellings start with.
    null_max_len: usize,
    null_first: [bool; 256],
    parse_dates: bool,
}

impl<'a> Parser<'a> {
    /// Whether a field spells null; most fields are rejected by their length or first byte.
    #[inline]
    fn is_null(&self, text: &str) -> bool {
        let b = text.as_bytes();
        if b.len() > self.null_max_len || b.first().is_some_and(|&f| !self.null_first[f as usize]) {
            return false;
        }
        self.nulls
            .iter()
            .any(|n| n.len() == b.len() && n.as_bytes() == b)
    }

    /// Reads one record starting at `*pos`, leaving `*pos` after its line end.
    fn record(&self, pos: &mut usize, fields: &mut Vec<Field>) -> std::result::Result<(), String> {
        fields.clear();
        let b = self.text.as_bytes();
        let mut i = *pos;
        loop {
            if i < b.len() && b[i] == b'"' {
                let start = i + 1;
                let mut j = start;
                loop {
                    match b[j..].iter().position(|&c| c == b'"') {
                        None => return Err("a quoted field is not closed".into()),
                        Some(k) => {
                            j += k;
                            if b.get(j + 1) == Some(&b'"') {
                                j += 2;
                            } else {
                                break;
                            }
                        }
                    }
                }
                fields.push(Field {
                    range: start..j,
                    quoted: true,
                });
                i = j + 1;
                match b.get(i) {
                    None => break,
                    Some(&c) if c == self.delim => i += 1,
                    Some(b'\n') => {
                        i += 1;
                        break;
                    }
                    Some(b'\r') if b.get(i + 1) == Some(&b'\n') => {
                        i += 2;
                        break;
                    }
                    Some(_) => return Err("unexpected text after a closing quote".into()),
                }
            } else {
                let start = i;
                while i < b.len() && b[i] != self.delim && b[i] != b'\n' {
                    i += 1;
                }
                let end = if i > start && b[i - 1] == b'\r' && (i == b.len() || b[i] == b'\n') {
                    i - 1
                } else {
                    i
                };
                fields.push(Field {
                    range: start..end,
                    quoted: false,
                });
                if i >= b.len() {
                    break;
                }
                i += 1;
                if b[i - 1] == b'\n' {
                    break;
                }
            }
        }
        *pos = i;
        Ok(())
    }

    /// Cuts the body into chunks that start at record boundaries.
    fn chunks(&self, start: usize) -> Vec<Range<usize>> {
        let b = self.text.as_bytes();
        let len = b.len() - start;
        let want = (len / (1 << 20)).clamp(1, rayon::current_num_threads() * 8);
        if want == 1 || b[start..].contains(&b'"') {
            // Quotes can hide newlines; a single chunk is always right.
            return std::iter::once(start..b.len()).collect();
        }
        let mut out = Vec::new();
        let mut s = start;
        for k in 1..want {
            let guess = (start + len * k / want).max(s);
            let Some(nl) = b[guess..].iter().position(|&c| c == b'\n') else {
                break;
            };
            let e = guess + nl + 1;
            if e > s {
                out.push(s..e);
                s = e;
            }
        }
        if s < b.len() {
            out.push(s..b.len());
        }
        out
    }

    fn parse_chunk(
        &self,
        range: Range<usize>,
        ncols: usize,
        hints: &[Kind],
    ) -> Result<Vec<Builder>> {
        // The chunk's line count sizes the builders (one fast pass over bytes already hot).
        let rows = self.text.as_bytes()[range.clone()]
            .iter()
            .filter(|&&c| c == b'\n')
            .count()
            + 1;
        let mut builders: Vec<Builder> = hints.iter().map(|&k| Builder::new(k, rows)).collect();
        let mut fields = Vec::with_capacity(ncols);
        let mut pos = range.start;
        let mut line_in_chunk = 0;
        // 1-based: the records before this chunk (header included) plus the local count.
        let line = |local: usize| {
            self.text.as_bytes()[..range.start]
                .iter()
                .filter(|&&c| c == b'\n')
                .count()
                + local
        };
        let mut retry_hints: Option<Vec<Kind>> = None;
        while pos < range.end {
            line_in_chunk += 1;
            self.record(&mut pos, &mut fields)
                .map_err(|reason| FrameError::Csv {
                    line: line(line_in_chunk),
                    column: None,
                    reason,
                })?;
            if fields.len() == 1 && fields[0].range.is_empty() && !fields[0].quoted {
                continue; // a blank line
            }
            if fields.len() != ncols {
                return Err(FrameError::Csv {
                    line: line(line_in_chunk),
                    column: None,
                    reason: format!("expected {ncols} fields, found {}", fields.len()),
                });
            }
            if line_in_chunk == TEXT_SAMPLE {
                builders
                    .iter_mut()
                    .for_each(|b| b.reserve_text(TEXT_SAMPLE - 1, rows));
            }
            for (c, f) in fields.iter().enumerate() {
                let text = f.text(self.text);
                if self.is_null(&text) {
                    builders[c].push_null();
                } else if !builders[c].push(&text, self.parse_dates, rows) {
                    // This column is text after all: note it and parse the chunk again.
                    let h = retry_hints
                        .get_or_insert_with(|| builders.iter().map(Builder::kind).collect());
                    h[c] = Kind::Str;
                    builders[c] = Builder::Str(Strings::with_capacity(0, 0));
                    break;
                }
            }
            if let Some(h) = retry_hints.take() {
                let merged: Vec<Kind> = h
                    .iter()
                    .zip(hints)
                    .map(|(&a, &b)| if a == Kind::Str { Kind::Str } else { b })
                    .collect();
                return self.parse_chunk(range, ncols, &merged);
            }
        }
        Ok(builders)
    }
}
