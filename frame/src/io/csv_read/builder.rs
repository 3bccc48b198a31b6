//! Per-chunk column builders, and how one column's chunks become one column.
//!
//! Int64, Float64, Datetime and Bool values and the end offsets of string rows are written,
//! 8 bytes each, straight into the column's final buffer: every chunk owns the slice of that
//! buffer its rows cover (its *slot*), sized from the chunk's line count before parsing
//! starts. Only text bytes and validity masks are built per chunk. Building
//! every column per chunk and concatenating afterwards made the kernel zero (and the reader
//! copy) each column twice; on db-benchmark's join tables that was most of the load time.

use rayon::prelude::*;

use crate::column::cast::parse_float_bytes as parse_float;
use crate::column::{Column, Prim, Strings, encode_text};
use crate::datetime;
use crate::partition::{filled, split_mut};

use super::parser::{parse_bool, parse_int};

/// A column type being inferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
    pub(super) fn unify(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Infer, x) | (x, Infer) => x,
            (Int, Float) | (Float, Int) => Float,
            _ => Str,
        }
    }

    /// Whether a chunk of this kind converts to `target` without re-reading its text.
    pub(super) fn widens_to(self, target: Kind) -> bool {
        matches!((self, target), (Kind::Infer, _) | (Kind::Int, Kind::Float))
    }

    /// Whether the column's values (or string end offsets) live in its 8-byte buffer.
    pub(super) fn uses_slots(self) -> bool {
        !matches!(self, Kind::Cat)
    }
}

/// A validity mask made only at the first null, so a column without nulls never writes (or
/// later copies and scans) one.
#[derive(Default)]
pub(super) struct LazyMask(Option<Vec<bool>>);

impl LazyMask {
    #[inline]
    fn valid(&mut self) {
        if let Some(m) = &mut self.0 {
            m.push(true);
        }
    }

    /// Records a null at row `len`, the mask having room for `rows` rows.
    fn null(&mut self, len: usize, rows: usize) {
        self.0
            .get_or_insert_with(|| {
                let mut m = Vec::with_capacity(rows);
                m.resize(len, true);
                m
            })
            .push(false);
    }
}

/// What one chunk holds of one column once parsed; 8-byte values are in the slot.
pub(super) enum Builder {
    Nulls(usize),
    /// Int64 (`Kind::Int`), Float64 (bits), Datetime or Bool (0 / 1) values in the slot.
    Wide {
        kind: Kind,
        len: usize,
        mask: LazyMask,
    },
    /// Text bytes here, each row's end offset (relative to `data`) in the slot.
    Str {
        data: Vec<u8>,
        len: usize,
        mask: LazyMask,
    },
    /// Text of a column to dictionary-encode. Encoding happens after parsing, over this
    /// compact buffer: done during parsing, the streaming file text evicts the dictionary
    /// from cache and every lookup misses (measured 5x slower for 1e5 distinct values).
    Cat(Strings),
}

impl Builder {
    fn new(kind: Kind, rows: usize) -> Builder {
        match kind {
            Kind::Infer => Builder::Nulls(0),
            Kind::Int | Kind::Float | Kind::Date | Kind::Bool => Builder::Wide {
                kind,
                len: 0,
                mask: LazyMask::default(),
            },
            Kind::Str => Builder::Str {
                data: Vec::new(),
                len: 0,
                mask: LazyMask::default(),
            },
            Kind::Cat => Builder::Cat(Strings::with_capacity(rows, 0)),
        }
    }

    pub(super) fn kind(&self) -> Kind {
        match self {
            Builder::Nulls(_) => Kind::Infer,
            Builder::Wide { kind, .. } => *kind,
            Builder::Str { .. } => Kind::Str,
            Builder::Cat(_) => Kind::Cat,
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Builder::Nulls(n) => *n,
            Builder::Wide { len, .. } | Builder::Str { len, .. } => *len,
            Builder::Cat(s) => s.len(),
        }
    }

    /// Whether any row is null.
    fn has_nulls(&self) -> bool {
        match self {
            Builder::Nulls(n) => *n > 0,
            Builder::Wide { mask, .. } | Builder::Str { mask, .. } => mask.0.is_some(),
            Builder::Cat(s) => s.validity.is_some(),
        }
    }

    /// Appends this chunk's validity (all valid, all null, or its mask) to `out`.
    fn extend_validity(&self, out: &mut Vec<bool>) {
        let mask = match self {
            Builder::Nulls(n) => {
                out.resize(out.len() + n, false);
                return;
            }
            Builder::Wide { mask, .. } | Builder::Str { mask, .. } => mask.0.as_deref(),
            Builder::Cat(s) => s.validity.as_deref(),
        };
        match mask {
            Some(m) => out.extend_from_slice(m),
            None => out.resize(out.len() + self.len(), true),
        }
    }
}

/// One column of one chunk while it is parsed: the builder plus the chunk's slot of the
/// column's final buffer (empty for columns that do not use one).
pub(super) struct ChunkColumn<'s> {
    slot: &'s mut [u64],
    rows: usize,
    builder: Builder,
}

impl<'s> ChunkColumn<'s> {
    /// A column of `kind` for a chunk of at most `rows` records.
    pub(super) fn new(kind: Kind, slot: &'s mut [u64], rows: usize) -> Self {
        ChunkColumn {
            slot,
            rows,
            builder: Builder::new(kind, rows),
        }
    }

    pub(super) fn kind(&self) -> Kind {
        self.builder.kind()
    }

    /// Gives the slot back (to parse the chunk again with other types).
    pub(super) fn into_slot(self) -> &'s mut [u64] {
        self.slot
    }

    /// The parsed chunk column, its 8-byte values left in the slot.
    pub(super) fn finish(self) -> Builder {
        self.builder
    }

    /// Once a sample of `seen` rows is parsed, reserves text room for the rest of the chunk
    /// at the sample's mean length (plus a margin), instead of growing the buffer by doubling.
    pub(super) fn reserve_text(&mut self, seen: usize) {
        let want = |len: usize| (len / seen.max(1) + 1) * self.rows.saturating_sub(seen) * 9 / 8;
        match &mut self.builder {
            Builder::Str { data, .. } => data.reserve(want(data.len())),
            Builder::Cat(s) => s.data.reserve(want(s.data.len())),
            _ => {}
        }
    }

    pub(super) fn push_null(&mut self) {
        match &mut self.builder {
            Builder::Nulls(n) => *n += 1,
            Builder::Wide { len, mask, .. } => {
                // A chunk parsed again may find older values here: write every row.
                self.slot[*len] = 0;
                mask.null(*len, self.rows);
                *len += 1;
            }
            Builder::Str { data, len, mask } => {
                self.slot[*len] = data.len() as u64;
                mask.null(*len, self.rows);
                *len += 1;
            }
            Builder::Cat(s) => s.push(None),
        }
    }

    /// Pushes a non-null field; `false` when it does not fit the column's type and the
    /// chunk must be parsed again with this column as text.
    #[inline]
    pub(super) fn push(&mut self, field: &[u8], parse_dates: bool) -> bool {
        loop {
            match &mut self.builder {
                Builder::Nulls(n) => {
                    let n = *n;
                    let kind = if parse_int(field).is_some() {
                        Kind::Int
                    } else if parse_float(field).is_some() {
                        Kind::Float
                    } else if parse_bool(field).is_some() {
                        Kind::Bool
                    } else if parse_dates && parse_date(field).is_some() {
                        Kind::Date
                    } else {
                        Kind::Str
                    };
                    self.builder = Builder::new(kind, self.rows);
                    for _ in 0..n {
                        self.push_null();
                    }
                }
                Builder::Wide { kind, len, mask } => {
                    let bits = match *kind {
                        Kind::Int => match parse_int(field) {
                            Some(x) => x as u64,
                            None if parse_float(field).is_some() => {
                                // Widen this chunk's integers in place and go on as floats.
                                for v in &mut self.slot[..*len] {
                                    *v = (*v as i64 as f64).to_bits();
                                }
                                *kind = Kind::Float;
                                continue;
                            }
                            None => return false,
                        },
                        Kind::Float => match parse_float(field) {
                            Some(x) => x.to_bits(),
                            None => return false,
                        },
                        Kind::Bool => match parse_bool(field) {
                            Some(x) => u64::from(x),
                            None => return false,
                        },
                        _ => match parse_date(field) {
                            Some(x) => x as u64,
                            None => return false,
                        },
                    };
                    self.slot[*len] = bits;
                    mask.valid();
                    *len += 1;
                    return true;
                }
                Builder::Str { data, len, mask } => {
                    data.extend_from_slice(field);
                    self.slot[*len] = data.len() as u64;
                    mask.valid();
                    *len += 1;
                    return true;
                }
                Builder::Cat(s) => {
                    // Fields of validated text are UTF-8: this borrows, it never replaces.
                    s.push(Some(&String::from_utf8_lossy(field)));
                    return true;
                }
            }
        }
    }
}

/// Moves each chunk's `lens[c]` leading values down so the chunks' rows are contiguous
/// (a chunk holds fewer rows than lines when it has blank lines or quoted line breaks);
/// returns the number of rows.
fn compact(values: &mut [u64], lines: &[usize], lens: &[usize]) -> usize {
    let mut at = 0;
    let mut start = 0;
    for (&l, &n) in lines.iter().zip(lens) {
        if at != start {
            values.copy_within(start..start + n, at);
        }
        at += n;
        start += l;
    }
    at
}

/// The validity of a column from its chunks, or `None` when no row is null.
fn validity(parts: &[Builder]) -> Option<Vec<bool>> {
    if !parts.iter().any(Builder::has_nulls) {
        return None;
    }
    let mut out = Vec::with_capacity(parts.iter().map(Builder::len).sum());
    for p in parts {
        p.extend_validity(&mut out);
    }
    Some(out)
}

/// One column from its chunks: `buf` is the column's 8-byte buffer (one leading slot, then
/// `lines[c]` slots per chunk), `target` the type every chunk agreed on.
pub(super) fn finish_column(
    mut buf: Vec<u64>,
    parts: Vec<Builder>,
    lines: &[usize],
    target: Kind,
) -> Column {
    let lens: Vec<usize> = parts.iter().map(Builder::len).collect();
    let rows: usize = lens.iter().sum();
    match target {
        Kind::Infer => Column::Mixed(vec![crate::Value::Null; rows]),
        Kind::Cat => {
            let texts: Vec<Strings> = parts
                .into_iter()
                .map(|p| match p {
                    Builder::Cat(s) => s,
                    other => Strings::from_options(vec![None::<&str>; other.len()]),
                })
                .collect();
            Column::Categorical(encode_text(&texts))
        }
        Kind::Int | Kind::Float | Kind::Date | Kind::Bool => {
            let mask = validity(&parts);
            split_mut(&mut buf[1..], lines.iter().copied())
                .into_par_iter()
                .zip(&parts)
                .for_each(|(slot, part)| match part {
                    Builder::Wide {
                        kind: Kind::Int,
                        len,
                        ..
                    } if target == Kind::Float => {
                        for v in &mut slot[..*len] {
                            *v = (*v as i64 as f64).to_bits();
                        }
                    }
                    Builder::Nulls(n) => slot[..*n].fill(0),
                    _ => {}
                });
            compact(&mut buf[1..], lines, &lens);
            // Same-size maps collect in place: no new buffer, no copy.
            let values = buf.into_iter().skip(1).take(rows);
            match target {
                Kind::Float => Column::Float64(prim(values.map(f64::from_bits).collect(), mask)),
                Kind::Int => Column::Int64(prim(values.map(|v| v as i64).collect(), mask)),
                Kind::Bool => Column::Bool(prim(values.map(|v| v != 0).collect(), mask)),
                _ => Column::Datetime(prim(values.map(|v| v as i64).collect(), mask)),
            }
        }
        Kind::Str => {
            let texts: Vec<&[u8]> = parts
                .iter()
                .map(|p| match p {
                    Builder::Str { data, .. } => data.as_slice(),
                    _ => &[],
                })
                .collect();
            let mut base = 0;
            let bases: Vec<u64> = texts
                .iter()
                .map(|t| {
                    let b = base;
                    base += t.len() as u64;
                    b
                })
                .collect();
            split_mut(&mut buf[1..], lines.iter().copied())
                .into_par_iter()
                .zip(&parts)
                .zip(&bases)
                .for_each(|((slot, part), &b)| match part {
                    Builder::Nulls(n) => slot[..*n].fill(b),
                    other => slot[..other.len()].iter_mut().for_each(|o| *o += b),
                });
            compact(&mut buf[1..], lines, &lens);
            buf[0] = 0;
            buf.truncate(rows + 1);
            let offsets: Vec<usize> = buf.into_iter().map(|o| o as usize).collect();
            let mut bytes = filled(base as usize, 0u8);
            split_mut(&mut bytes, texts.iter().map(|t| t.len()))
                .into_par_iter()
                .zip(&texts)
                .for_each(|(out, t)| out.copy_from_slice(t));
            let data = String::from_utf8(bytes).expect("UTF-8 strings concatenate to UTF-8");
            Column::Utf8(Strings {
                data,
                offsets,
                validity: validity(&parts),
            })
        }
    }
}

/// A datetime field (fields of validated text are UTF-8, so the conversion borrows).
fn parse_date(field: &[u8]) -> Option<i64> {
    datetime::parse(&String::from_utf8_lossy(field))
}

fn prim<T: Copy + Default + Send + Sync>(values: Vec<T>, mask: Option<Vec<bool>>) -> Prim<T> {
    match mask {
        Some(m) => Prim::with_validity(values, m),
        None => Prim::new(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_closes_the_gaps_chunks_leave() {
        let mut v = vec![1, 2, 0, 3, 4, 5, 6, 0, 0];
        let n = compact(&mut v, &[3, 3, 3], &[2, 3, 1]);
        assert_eq!(n, 6);
        assert_eq!(&v[..6], [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn same_size_maps_reuse_the_buffer() {
        // The reader relies on this to turn its u64 buffers into columns without a copy.
        let buf: Vec<u64> = vec![0, 1, 2, 3];
        let ptr = buf.as_ptr() as usize;
        let out: Vec<i64> = buf.into_iter().skip(1).take(2).map(|v| v as i64).collect();
        assert_eq!(out, [1, 2]);
        assert_eq!(out.as_ptr() as usize, ptr);
    }
}
