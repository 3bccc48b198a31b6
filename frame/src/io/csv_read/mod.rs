//! A parallel CSV reader with type inference.
//!
//! The file is cut into chunks at record boundaries; chunks parse in parallel, each column
//! of each chunk inferring its own type (Int64 → Float64 → Utf8, plus Bool and optional
//! Datetime). Chunks that disagree are reconciled afterwards: Int64 widens to Float64 in
//! place, and a chunk whose column must become Utf8 is parsed again for that column — the
//! original text is never lost (`"007"` stays `"007"` in a string column).

mod builder;
mod category;
mod parser;
mod source;

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::column::Column;
use crate::error::{FrameError, Result};
use crate::frame::DataFrame;
use crate::index::Index;

use builder::{Builder, ChunkColumn, ColumnBuf, Kind, Slot, finish_column};
use parser::{Parser, count_lines};
use source::{FileText, Memory, Source};

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
///
/// A plain file is read chunk by chunk with positioned reads (never whole), so its text
/// takes no memory beyond a few chunk buffers; a gzip file is decompressed into memory first.
pub fn read_csv_with(path: impl AsRef<Path>, options: &CsvOptions) -> Result<DataFrame> {
    let path = path.as_ref();
    let io = |source| FrameError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.extension().is_some_and(|e| e == "gz") {
        let raw = std::fs::read(path).map_err(io)?;
        let mut out = Vec::with_capacity(raw.len() * 4);
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
            .map_err(io)?;
        return read_csv_bytes(&out, options);
    }
    match read_source(&FileText::open(path)?, options, MIN_CHUNK_BYTES)? {
        Read::Frame(df) => Ok(df),
        // Quoted fields may hide line breaks, so chunk boundaries cannot be trusted.
        Read::NeedsOneChunk => read_csv_bytes(&std::fs::read(path).map_err(io)?, options),
    }
}

/// Parses CSV text held in memory.
pub fn read_csv_bytes(bytes: &[u8], options: &CsvOptions) -> Result<DataFrame> {
    read_chunked(bytes, options, MIN_CHUNK_BYTES)
}

/// The smallest chunk worth a parallel task.
const MIN_CHUNK_BYTES: usize = 1 << 20;

/// [`read_csv_bytes`] with chunks of at least `min_chunk` bytes (tests cut small texts into
/// many chunks to exercise the reconciliation paths).
fn read_chunked(bytes: &[u8], options: &CsvOptions, min_chunk: usize) -> Result<DataFrame> {
    match read_source(&Memory(bytes), options, min_chunk)? {
        Read::Frame(df) => Ok(df),
        Read::NeedsOneChunk => match read_source(&Memory(bytes), options, usize::MAX)? {
            Read::Frame(df) => Ok(df),
            Read::NeedsOneChunk => unreachable!("one chunk is never cut"),
        },
    }
}

/// What [`read_source`] gives.
enum Read {
    Frame(DataFrame),
    /// The text has quotes and was cut into several chunks: read it as one instead.
    NeedsOneChunk,
}

/// The header is looked for in this many leading bytes before the whole text is read.
const HEADER_WINDOW: usize = 1 << 20;

/// Parses the CSV text of `src`, in chunks of at least `min_chunk` bytes.
fn read_source(src: &impl Source, options: &CsvOptions, min_chunk: usize) -> Result<Read> {
    let parser = Parser::new(options);

    // The first record gives the labels, or only the column count when there is no header.
    let window = src.len().min(HEADER_WINDOW);
    let head = src.with_bytes(0..window, |b| -> Result<_> {
        let bom = if b.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 };
        let mut end = bom;
        let mut fields = Vec::new();
        let parsed = parser.record(b, &mut end, &mut fields);
        // A header not closed inside the window (only possible when the window is not the
        // whole text): the caller reads the text as one chunk.
        if window < src.len() && (parsed.is_err() || b[end - 1] != b'\n') {
            return Ok(None);
        }
        parsed.map_err(|reason| FrameError::Csv {
            line: 1,
            column: None,
            reason,
        })?;
        let texts = fields
            .iter()
            .map(|f| String::from_utf8(f.bytes(b, &mut Vec::new()).to_vec()))
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(|_| FrameError::Csv {
                line: 1,
                column: None,
                reason: "the file is not valid UTF-8".into(),
            })?;
        let header_lines = b[..end].iter().filter(|&&c| c == b'\n').count();
        Ok(Some((texts, bom, end, header_lines)))
    })??;
    let Some((texts, bom, header_end, header_lines)) = head else {
        return Ok(Read::NeedsOneChunk);
    };
    let (names, body_start, line_base) = if options.has_header {
        (mangle(texts), header_end, header_lines)
    } else {
        ((0..texts.len()).map(|i| i.to_string()).collect(), bom, 0)
    };
    let ncols = names.len();
    let chunks = chunk_ranges(src, body_start, min_chunk)?;
    // Each chunk's line count bounds its records: it sizes the chunk's slot of every column.
    let scans: Vec<(usize, bool)> = chunks
        .par_iter()
        .map(|r| src.with_bytes(r.clone(), |b| (count_lines(b), b.contains(&b'"'))))
        .collect::<Result<_>>()?;
    if chunks.len() > 1 && scans.iter().any(|&(_, quoted)| quoted) {
        return Ok(Read::NeedsOneChunk);
    }
    let lines: Vec<usize> = scans.iter().map(|&(n, _)| n).collect();
    let total_lines: usize = lines.iter().sum();
    let line_bases: Vec<usize> = lines
        .iter()
        .scan(line_base, |base, &n| {
            let b = *base;
            *base += n;
            Some(b)
        })
        .collect();

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
    let mut bufs: Vec<ColumnBuf> = initial
        .iter()
        .map(|&k| ColumnBuf::new(k, total_lines))
        .collect();
    let mut slots: Vec<Vec<Slot<'_>>> = (0..chunks.len())
        .map(|_| Vec::with_capacity(ncols))
        .collect();
    for buf in &mut bufs {
        for (c, slot) in buf.slots(&lines).into_iter().enumerate() {
            slots[c].push(slot);
        }
    }

    // Parse; then reconcile types across chunks, re-parsing the chunks that must change.
    let mut hints: Vec<Vec<Kind>> = vec![initial; chunks.len()];
    let mut todo: Vec<(usize, Vec<Slot<'_>>)> = slots.into_iter().enumerate().collect();
    let mut parsed: Vec<Option<Vec<ChunkColumn<'_>>>> = (0..chunks.len()).map(|_| None).collect();
    while !todo.is_empty() {
        let results: Vec<(usize, Result<Vec<ChunkColumn<'_>>>)> = todo
            .into_par_iter()
            .map(|(c, s)| {
                let r = src.with_bytes(chunks[c].clone(), |text| {
                    parser.parse_chunk(text, line_bases[c], lines[c], ncols, &hints[c], s)
                });
                (c, r.and_then(|r| r))
            })
            .collect();
        for (c, r) in results {
            parsed[c] = Some(r?);
        }
        // The type each column needs overall; chunks that cannot widen to it parse again.
        let targets: Vec<Kind> = (0..ncols)
            .map(|col| {
                parsed.iter().fold(Kind::Infer, |a, p| {
                    a.unify(p.as_ref().expect("parsed")[col].kind())
                })
            })
            .collect();
        todo = Vec::new();
        for (c, p) in parsed.iter_mut().enumerate() {
            let columns = p.as_ref().expect("parsed");
            let mut stale = false;
            for (col, column) in columns.iter().enumerate() {
                let k = column.kind();
                if k != targets[col] && !k.widens_to(targets[col]) {
                    hints[c][col] = targets[col];
                    stale = true;
                }
            }
            if stale {
                let columns = p.take().expect("parsed");
                todo.push((c, columns.into_iter().map(ChunkColumn::into_slot).collect()));
            }
        }
    }
    let per_chunk: Vec<Vec<Builder>> = parsed
        .into_iter()
        .map(|p| {
            p.expect("parsed")
                .into_iter()
                .map(ChunkColumn::finish)
                .collect()
        })
        .collect();
    // Regroup by column, then finish the columns in parallel.
    let mut by_column: Vec<Vec<Builder>> = (0..ncols)
        .map(|_| Vec::with_capacity(per_chunk.len()))
        .collect();
    for chunk in per_chunk {
        for (col, b) in chunk.into_iter().enumerate() {
            by_column[col].push(b);
        }
    }
    let nrows = by_column
        .first()
        .map_or(0, |parts| parts.iter().map(Builder::len).sum());
    let columns: Vec<Arc<Column>> = by_column
        .into_par_iter()
        .zip(bufs)
        .map(|(parts, buf)| {
            let target = parts.iter().fold(Kind::Infer, |a, b| a.unify(b.kind()));
            Arc::new(finish_column(buf, parts, &lines, target))
        })
        .collect();
    DataFrame::from_parts(names, columns, Index::Range(nrows)).map(Read::Frame)
}

/// Cuts the body (from `start`) into chunks of at least `min_bytes` that start at line
/// boundaries: up to eight per worker thread, so uneven chunks still balance.
fn chunk_ranges(
    src: &impl Source,
    start: usize,
    min_bytes: usize,
) -> Result<Vec<std::ops::Range<usize>>> {
    let end = src.len();
    let len = end - start;
    let want = (len / min_bytes.max(1)).clamp(1, rayon::current_num_threads() * 8);
    let mut out = Vec::with_capacity(want);
    let mut s = start;
    for k in 1..want {
        let guess = (start + len * k / want).max(s);
        let Some(nl) = src.next_line_feed(guess)? else {
            break;
        };
        if nl + 1 > s {
            out.push(s..nl + 1);
            s = nl + 1;
        }
    }
    if s < end || out.is_empty() {
        out.push(s..end);
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read_file(path: &Path, options: &CsvOptions, min_chunk: usize) -> Result<DataFrame> {
        match read_source(&FileText::open(path)?, options, min_chunk)? {
            Read::Frame(df) => Ok(df),
            Read::NeedsOneChunk => Err(FrameError::InvalidArgument("needs one chunk".into())),
        }
    }

    #[test]
    fn files_read_in_chunks_like_memory_and_report_the_right_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("\u{feff}a,b,c\n");
        for r in 0..5000 {
            text.push_str(&format!("{r},{}.5,x{}\n", r % 13, r % 7));
            if r == 4000 {
                text.push('\n');
            }
        }
        std::fs::write(&path, &text).unwrap();
        let options = CsvOptions::default();
        let memory = read_csv_bytes(text.as_bytes(), &options).unwrap();
        assert_eq!(memory.names(), ["a", "b", "c"]);
        assert_eq!(memory.nrows(), 5000);
        for min_chunk in [100, 4096, usize::MAX] {
            assert_eq!(read_file(&path, &options, min_chunk).unwrap(), memory);
        }
        assert_eq!(read_csv_with(&path, &options).unwrap(), memory);

        // A short row and a bad byte far into the file name their line (header = line 1).
        let at = text.find("\n4500,").unwrap() + 1;
        let mut short_row = text.clone().into_bytes();
        short_row.splice(at..at + 5, b"4500\n".iter().copied());
        let mut bad_byte = text.clone().into_bytes();
        bad_byte[at + 1] = 0xff;
        for bad in [short_row, bad_byte] {
            std::fs::write(&path, &bad).unwrap();
            for min_chunk in [100, usize::MAX] {
                let err = read_file(&path, &options, min_chunk).unwrap_err();
                assert!(matches!(err, FrameError::Csv { line: 4503, .. }), "{err:?}");
            }
        }
    }

    #[test]
    fn quoted_files_fall_back_to_one_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.csv");
        let mut text = String::from("k,note\n");
        for r in 0..5000 {
            if r % 1000 == 999 {
                text.push_str(&format!("{r},\"two\nlines, {r}\"\n"));
            } else {
                text.push_str(&format!("{r},n{r}\n"));
            }
        }
        std::fs::write(&path, &text).unwrap();
        let options = CsvOptions::default();
        assert!(matches!(
            read_source(&FileText::open(&path).unwrap(), &options, 100),
            Ok(Read::NeedsOneChunk)
        ));
        let d = read_csv_with(&path, &options).unwrap();
        assert_eq!(d.nrows(), 5000);
        assert_eq!(d.get(999, "note").unwrap(), "two\nlines, 999".into());
        assert_eq!(read_chunked(text.as_bytes(), &options, 100).unwrap(), d);
    }

    /// Rows whose columns change type in the middle of the file, with nulls, blank lines and
    /// a column that is null in whole chunks: cut into many small chunks, the reader must give
    /// exactly what it gives for the text as one chunk.
    #[test]
    fn many_chunks_read_like_one() {
        let mut text = String::from("i,f,s,late,b,n,d\n");
        for r in 0..3000 {
            let f = if r == 1700 {
                "2.5".to_string()
            } else {
                r.to_string()
            };
            let s = if r % 97 == 0 {
                "NA".to_string()
            } else {
                format!("s{r}")
            };
            let late = if r < 2500 {
                (r % 10).to_string()
            } else {
                "x".into()
            };
            let b = if r % 5 == 0 {
                ""
            } else if r % 2 == 0 {
                "true"
            } else {
                "False"
            };
            let n = if (1000..1500).contains(&r) { "7" } else { "" };
            text.push_str(&format!(
                "{r},{f},{s},{late},{b},{n},2020-01-0{}\n",
                r % 9 + 1
            ));
            if r % 400 == 13 {
                text.push('\n');
            }
        }
        for parse_dates in [false, true] {
            let options = CsvOptions {
                parse_dates,
                ..CsvOptions::default()
            };
            let whole = read_chunked(text.as_bytes(), &options, usize::MAX).unwrap();
            for min_chunk in [64, 1000, 7919] {
                let parts = read_chunked(text.as_bytes(), &options, min_chunk).unwrap();
                assert_eq!(parts, whole, "chunks of {min_chunk} bytes");
            }
            assert_eq!(whole.nrows(), 3000);
            assert_eq!(
                whole.dtypes(),
                [
                    crate::DType::Int64,
                    crate::DType::Float64,
                    crate::DType::Utf8,
                    crate::DType::Utf8,
                    crate::DType::Bool,
                    crate::DType::Int64,
                    if parse_dates {
                        crate::DType::Datetime
                    } else {
                        crate::DType::Utf8
                    },
                ]
            );
            assert_eq!(whole.get(1700, "f").unwrap(), 2.5.into());
            assert_eq!(whole.get(1699, "f").unwrap(), 1699.0.into());
            assert_eq!(whole.get(2, "late").unwrap(), "2".into());
            assert!(whole.column("s").unwrap().is_null(97));
            assert_eq!(whole.get(98, "s").unwrap(), "s98".into());
            assert!(whole.column("n").unwrap().is_null(999));
            assert_eq!(whole.get(1000, "n").unwrap(), 7.into());
        }
    }

    /// A categorical column whose chunks are coded against their own dictionaries where
    /// values repeat and keep their text where nearly every value is new, with nulls, blank
    /// lines and another column re-parsed as text in one chunk: it must hold exactly the
    /// plain read's text, with sorted categories.
    #[test]
    fn categorical_chunks_mixing_dictionaries_and_text_read_like_text() {
        let mut text = String::from("k,x\n");
        for r in 0..100_000 {
            let k = match r {
                _ if r % 101 == 0 => "NA".to_string(),
                0..50_000 => ["b", "a", "a value longer than sixteen bytes"][r % 3].to_string(),
                _ => format!("u{}", r * 7 % 50_021),
            };
            let x = if r == 30_000 {
                "oops".into()
            } else {
                r.to_string()
            };
            text.push_str(&format!("{k},{x}\n"));
            if r % 9_000 == 17 {
                text.push('\n');
            }
        }
        let categorical = CsvOptions {
            categorical: vec!["k".into()],
            ..CsvOptions::default()
        };
        // Two threads cut the text into 16 chunks of about 6,000 rows: the second half's
        // chunks hold more distinct values than a chunk dictionary takes.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            let plain = read_chunked(text.as_bytes(), &CsvOptions::default(), 1).unwrap();
            // The whole text, as many chunks and as one; and only the repeating first part.
            for (lines, min_chunk) in [(usize::MAX, 1), (usize::MAX, usize::MAX), (40_000, 1)] {
                let end = text
                    .match_indices('\n')
                    .nth(lines)
                    .map_or(text.len(), |(i, _)| i + 1);
                let cat = read_chunked(&text.as_bytes()[..end], &categorical, min_chunk).unwrap();
                let c = cat.column("k").unwrap();
                let Column::Categorical(codes) = c else {
                    panic!("k is categorical")
                };
                assert!(codes.categories().windows(2).all(|w| w[0] < w[1]));
                if lines == usize::MAX {
                    assert_eq!(cat.nrows(), plain.nrows());
                }
                assert_eq!(
                    cat.column("x").unwrap(),
                    &plain.column("x").unwrap().slice(0, cat.nrows())
                );
                let k = plain.column("k").unwrap();
                for r in 0..cat.nrows() {
                    assert_eq!(
                        c.get(r),
                        k.get(r),
                        "row {r} of {lines} lines, chunks of {min_chunk}"
                    );
                }
            }
        });
    }
}
