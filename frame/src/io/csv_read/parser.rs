//! Cutting CSV text into records and fields, and one chunk's parse.

use std::ops::Range;

use crate::error::{FrameError, Result};

use super::CsvOptions;
use super::builder::{ChunkColumn, Kind, Slot};

/// A field as a range of the text, quoted fields remembering to unescape `""`.
#[derive(Clone)]
pub(super) struct Field {
    range: Range<usize>,
    quoted: bool,
}

impl Field {
    /// The field's bytes; a quoted field holding `""` is unescaped into `scratch`.
    #[inline(always)]
    pub(super) fn bytes<'t>(&self, text: &'t [u8], scratch: &'t mut Vec<u8>) -> &'t [u8] {
        let raw = &text[self.range.clone()];
        if self.quoted && raw.contains(&b'"') {
            scratch.clear();
            let mut rest = raw;
            while let Some(q) = rest.iter().position(|&c| c == b'"') {
                // Inside a closed quoted field every quote is the first of a `""` pair.
                scratch.extend_from_slice(&rest[..=q]);
                rest = rest.get(q + 2..).unwrap_or_default();
            }
            scratch.extend_from_slice(rest);
            scratch
        } else {
            raw
        }
    }
}

/// Rows parsed before text columns reserve room for the rest of their chunk.
const TEXT_SAMPLE: usize = 1024;

pub(super) struct Parser<'a> {
    pub(super) delim: u8,
    pub(super) nulls: &'a [String],
    /// The longest null spelling, and per first byte a bit per length (below 64) of the
    /// null spellings starting with that byte.
    pub(super) null_max_len: usize,
    pub(super) null_lens: [u64; 256],
    pub(super) parse_dates: bool,
}

impl<'a> Parser<'a> {
    /// The parser for `options`' delimiter, null spellings and date parsing.
    pub(super) fn new(options: &'a CsvOptions) -> Self {
        let mut null_lens = [0u64; 256];
        for n in &options.null_values {
            if let Some(&f) = n.as_bytes().first()
                && n.len() < 64
            {
                null_lens[f as usize] |= 1 << n.len();
            }
        }
        Parser {
            delim: options.delimiter,
            nulls: &options.null_values,
            null_max_len: options
                .null_values
                .iter()
                .map(String::len)
                .max()
                .unwrap_or(0),
            null_lens,
            parse_dates: options.parse_dates,
        }
    }

    /// Whether a field spells null. Nearly every field is rejected by its length and first
    /// byte alone, without comparing it with pandas' twenty-odd spellings: numbers starting
    /// with `1` or `-` share a first byte with `1.#QNAN` or `-NaN`, but not a length too.
    #[inline]
    fn is_null(&self, b: &[u8]) -> bool {
        if b.len() > self.null_max_len {
            return false;
        }
        let candidate = match b.first() {
            None => true,
            Some(&f) => b.len() >= 64 || (self.null_lens[f as usize] >> b.len()) & 1 != 0,
        };
        candidate && self.nulls.iter().any(|n| n.as_bytes() == b)
    }

    /// Reads one record starting at `*pos`, leaving `*pos` after its line end.
    pub(super) fn record(
        &self,
        b: &[u8],
        pos: &mut usize,
        fields: &mut Vec<Field>,
    ) -> std::result::Result<(), String> {
        fields.clear();
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
                i = field_end(b, i, self.delim);
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

    /// Parses the records of one chunk's `text` (at most `rows` of them, the first on line
    /// `line_base + 1`) into one column builder per column, each writing into its slot of
    /// the column's final buffer.
    pub(super) fn parse_chunk<'s>(
        &self,
        text: &[u8],
        line_base: usize,
        rows: usize,
        ncols: usize,
        hints: &[Kind],
        slots: Vec<Slot<'s>>,
    ) -> Result<Vec<ChunkColumn<'s>>> {
        let mut columns: Vec<ChunkColumn<'s>> = hints
            .iter()
            .zip(slots)
            .map(|(&k, slot)| ChunkColumn::new(k, slot, rows))
            .collect();
        // 1-based: the lines before this chunk (header included) plus the local count.
        let line = |local: usize| line_base + local;
        if let Err(e) = std::str::from_utf8(text) {
            return Err(FrameError::Csv {
                line: line(
                    text[..e.valid_up_to()]
                        .iter()
                        .filter(|&&c| c == b'\n')
                        .count()
                        + 1,
                ),
                column: None,
                reason: "the file is not valid UTF-8".into(),
            });
        }
        let mut fields = Vec::with_capacity(ncols);
        let mut pos = 0;
        let mut line_in_chunk = 0;
        let mut retry_hints: Option<Vec<Kind>> = None;
        let mut scratch = Vec::new();
        while pos < text.len() {
            line_in_chunk += 1;
            self.record(text, &mut pos, &mut fields)
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
                columns
                    .iter_mut()
                    .for_each(|c| c.reserve_text(TEXT_SAMPLE - 1));
            }
            for (c, f) in fields.iter().enumerate() {
                let field = f.bytes(text, &mut scratch);
                if self.is_null(field) {
                    columns[c].push_null();
                } else if !columns[c].push(field, self.parse_dates) {
                    // This column is text after all: note it and parse the chunk again.
                    let h = retry_hints
                        .get_or_insert_with(|| columns.iter().map(ChunkColumn::kind).collect());
                    h[c] = Kind::Str;
                    break;
                }
            }
            if let Some(h) = retry_hints.take() {
                let merged: Vec<Kind> = h
                    .iter()
                    .zip(hints)
                    .map(|(&a, &b)| if a == Kind::Str { Kind::Str } else { b })
                    .collect();
                let slots = columns.into_iter().map(ChunkColumn::into_slot).collect();
                return self.parse_chunk(text, line_base, rows, ncols, &merged, slots);
            }
        }
        columns.iter_mut().for_each(ChunkColumn::seal);
        Ok(columns)
    }
}

/// The first position from `i` holding `delim` or a line feed (or the end of `b`).
///
/// Eight bytes at a time: for each byte that equals the target, `x ^ target` has a zero
/// byte, which `(v - 0x01…) & !v & 0x80…` flags. Bytes above a flagged one may be flagged
/// falsely (a borrow), never below, so the lowest flag is always a true match.
#[inline]
fn field_end(b: &[u8], mut i: usize, delim: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let d = ONES * u64::from(delim);
    let nl = ONES * u64::from(b'\n');
    while let Some(w) = b[i..].first_chunk::<8>() {
        let x = u64::from_le_bytes(*w);
        let (a, c) = (x ^ d, x ^ nl);
        let hits = (a.wrapping_sub(ONES) & !a | c.wrapping_sub(ONES) & !c) & HIGHS;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i] != delim && b[i] != b'\n' {
        i += 1;
    }
    i
}

/// The number of records `text` can hold at most: its line breaks, plus a last line without one.
pub(super) fn count_lines(text: &[u8]) -> usize {
    // Byte-wide counts over short blocks vectorise far better than one wide count.
    let breaks: usize = text
        .chunks(128)
        .map(|block| usize::from(block.iter().fold(0u8, |n, &c| n + u8::from(c == b'\n'))))
        .sum();
    breaks + usize::from(text.last().is_some_and(|&c| c != b'\n'))
}

pub(super) fn parse_int(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return if digits.len() > 18 {
            std::str::from_utf8(b).ok()?.parse().ok()
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

pub(super) fn parse_bool(s: &[u8]) -> Option<bool> {
    match s {
        b"True" | b"true" | b"TRUE" => Some(true),
        b"False" | b"false" | b"FALSE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_spellings_are_found_by_length_and_first_byte() {
        let defaults = CsvOptions::default();
        let p = Parser::new(&defaults);
        for n in &defaults.null_values {
            assert!(p.is_null(n.as_bytes()), "{n:?}");
        }
        // Same first byte or same length as a spelling, but not a spelling.
        for f in [
            "1", "-1", "1.#QNA", "1.#QNAM", "-NaM", "NAN", "nana", "#N/B", "12345678", "x",
        ] {
            assert!(!p.is_null(f.as_bytes()), "{f:?}");
        }
        // Custom spellings, one past the length bitmap.
        let long = "missing".repeat(10);
        let custom = CsvOptions {
            null_values: vec!["?".into(), long.clone()],
            ..CsvOptions::default()
        };
        let p = Parser::new(&custom);
        assert!(p.is_null(b"?") && p.is_null(long.as_bytes()));
        assert!(!p.is_null(b"") && !p.is_null(b"NA") && !p.is_null(&long.as_bytes()[1..]));
    }

    #[test]
    fn field_end_finds_the_first_separator_or_line_feed() {
        let text = b"abcdefghijkl,mn\nopq\xc3\xa9,,x";
        for start in 0..text.len() {
            let naive = (start..text.len())
                .find(|&i| text[i] == b',' || text[i] == b'\n')
                .unwrap_or(text.len());
            assert_eq!(field_end(text, start, b','), naive, "from {start}");
        }
        // Bytes just above and below the targets, and a high byte before one.
        let text = [
            0x2b, 0x2d, 0x0b, 0x09, 0xff, 0x80, 0x2c, 1, 2, 3, 4, 5, 6, 7, 8, 9,
        ];
        assert_eq!(field_end(&text, 0, b','), 6);
        assert_eq!(field_end(&text, 7, b','), 16);
        assert_eq!(field_end(&text, 0, b'\t'), 3);
    }
}
