//! Per-chunk column builders, and how one column's chunks become one column.
//!
//! Int64, Float64, Datetime and Bool values and the end offsets of string rows are written,
//! 8 bytes each, straight into the column's final buffer: every chunk owns the slice of that
//! buffer its rows cover (its *slot*), sized from the chunk's line count before parsing
//! starts; categorical codes likewise, 4 bytes each. Only text bytes, validity masks and
//! the chunk dictionaries of categorical columns are built per chunk. Building every column
//! per chunk and concatenating afterwards made the kernel zero (and the reader copy) each
//! column twice; on db-benchmark's join tables that was most of the load time.

use rayon::prelude::*;

use crate::column::cast::parse_float_bytes as parse_float;
use crate::column::{
    Categorical, Column, NULL_CODE, Prim, Strings, encode_text, merge_dictionaries,
};
use crate::datetime;
use crate::partition::{filled, split_mut};

use super::category::{CatChunk, CatText};
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

    /// Whether the column's values (or string end offsets) live in an 8-byte buffer; a
    /// categorical column's codes live in a 4-byte one.
    pub(super) fn uses_wide_slots(self) -> bool {
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
    /// A column to dictionary-encode, its codes in the 4-byte slot once the chunk is sealed.
    Cat(CatChunk),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
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
            Kind::Cat => Builder::Cat(CatChunk::Parsing(CatText::default())),
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
            Builder::Cat(c) => match c {
                CatChunk::Parsing(t) => t.len(),
                CatChunk::Coded { len, .. } => *len,
                CatChunk::Text(s) => s.len(),
            },
        }
    }

    /// The validity mask of a Wide or Str chunk (`None`: no null); categorical chunks keep
    /// theirs as codes.
    fn mask(&self) -> Option<&[bool]> {
        match self {
            Builder::Wide { mask, .. } | Builder::Str { mask, .. } => mask.0.as_deref(),
            Builder::Nulls(_) | Builder::Cat(_) => None,
        }
    }

    /// Whether any row is null (in a column that is not categorical).
    fn has_nulls(&self) -> bool {
        match self {
            Builder::Nulls(n) => *n > 0,
            other => other.mask().is_some(),
        }
    }

    /// Appends this chunk's validity (all valid, all null, or its mask) to `out`.
    fn extend_validity(&self, out: &mut Vec<bool>) {
        let mask = match self {
            Builder::Nulls(n) => {
                out.resize(out.len() + n, false);
                return;
            }
            other => other.mask(),
        };
        match mask {
            Some(m) => out.extend_from_slice(m),
            None => out.resize(out.len() + self.len(), true),
        }
    }
}

/// A chunk's slots of one column's final buffers: its 8-byte values (or string end offsets)
/// or its categorical codes; the one the column does not use is empty.
#[derive(Default)]
pub(super) struct Slot<'s> {
    pub(super) wide: &'s mut [u64],
    pub(super) codes: &'s mut [u32],
}

/// One column of one chunk while it is parsed: the builder plus the chunk's slot of the
/// column's final buffer.
pub(super) struct ChunkColumn<'s> {
    slot: Slot<'s>,
    rows: usize,
    builder: Builder,
}

impl<'s> ChunkColumn<'s> {
    /// A column of `kind` for a chunk of at most `rows` records.
    pub(super) fn new(kind: Kind, slot: Slot<'s>, rows: usize) -> Self {
        ChunkColumn {
            slot,
            rows,
            builder: Builder::new(kind),
        }
    }

    pub(super) fn kind(&self) -> Kind {
        self.builder.kind()
    }

    /// Gives the slot back (to parse the chunk again with other types).
    pub(super) fn into_slot(self) -> Slot<'s> {
        self.slot
    }

    /// Ends the chunk's parse: a categorical column encodes its rows now, while its task
    /// still runs, so its text is dropped before other chunks' text is made.
    pub(super) fn seal(&mut self) {
        if let Builder::Cat(c) = &mut self.builder
            && let CatChunk::Parsing(text) =
                std::mem::replace(c, CatChunk::Parsing(CatText::default()))
        {
            *c = text.seal(self.slot.codes);
        }
    }

    /// The parsed chunk column, its values left in the slot.
    pub(super) fn finish(self) -> Builder {
        self.builder
    }

    /// Once a sample of `seen` rows is parsed, reserves text room for the rest of the chunk
    /// at the sample's mean length (plus a margin), instead of growing the buffer by doubling.
    pub(super) fn reserve_text(&mut self, seen: usize) {
        let want = |len: usize| (len / seen.max(1) + 1) * self.rows.saturating_sub(seen) * 9 / 8;
        match &mut self.builder {
            Builder::Str { data, .. } => data.reserve(want(data.len())),
            Builder::Cat(CatChunk::Parsing(t)) => {
                t.reserve(self.rows.saturating_sub(seen), want(t.bytes()))
            }
            _ => {}
        }
    }

    pub(super) fn push_null(&mut self) {
        match &mut self.builder {
            Builder::Nulls(n) => *n += 1,
            Builder::Wide { len, mask, .. } => {
                // A chunk parsed again may find older values here: write every row.
                self.slot.wide[*len] = 0;
                mask.null(*len, self.rows);
                *len += 1;
            }
            Builder::Str { data, len, mask } => {
                self.slot.wide[*len] = data.len() as u64;
                mask.null(*len, self.rows);
                *len += 1;
            }
            Builder::Cat(c) => {
                if let CatChunk::Parsing(t) = c {
                    self.slot.codes[t.len()] = NULL_CODE;
                    t.push_null();
                }
            }
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
                    self.builder = Builder::new(kind);
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
                                for v in &mut self.slot.wide[..*len] {
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
                    self.slot.wide[*len] = bits;
                    mask.valid();
                    *len += 1;
                    return true;
                }
                Builder::Str { data, len, mask } => {
                    data.extend_from_slice(field);
                    self.slot.wide[*len] = data.len() as u64;
                    mask.valid();
                    *len += 1;
                    return true;
                }
                Builder::Cat(c) => {
                    if let CatChunk::Parsing(t) = c {
                        self.slot.codes[t.len()] = 0;
                        t.push(field);
                    }
                    return true;
                }
            }
        }
    }
}

/// Moves each chunk's `lens[c]` leading values down so the chunks' rows are contiguous
/// (a chunk holds fewer rows than lines when it has blank lines or quoted line breaks);
/// returns the number of rows.
fn compact<T: Copy>(values: &mut [T], lines: &[usize], lens: &[usize]) -> usize {
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

/// One column's final buffers: 8-byte values (or string end offsets) with one leading slot,
/// or categorical codes; then `lines[c]` slots per chunk.
pub(super) struct ColumnBuf {
    pub(super) wide: Vec<u64>,
    pub(super) codes: Vec<u32>,
}

impl ColumnBuf {
    /// The buffer a column of `kind` fills, for `lines` lines in all.
    pub(super) fn new(kind: Kind, lines: usize) -> Self {
        if kind.uses_wide_slots() {
            ColumnBuf {
                wide: filled(lines + 1, 0),
                codes: Vec::new(),
            }
        } else {
            ColumnBuf {
                wide: Vec::new(),
                codes: filled(lines, NULL_CODE),
            }
        }
    }

    /// Each chunk's slot, for chunks of `lines[c]` lines.
    pub(super) fn slots(&mut self, lines: &[usize]) -> Vec<Slot<'_>> {
        if !self.codes.is_empty() {
            split_mut(&mut self.codes, lines.iter().copied())
                .into_iter()
                .map(|codes| Slot {
                    wide: Default::default(),
                    codes,
                })
                .collect()
        } else if !self.wide.is_empty() {
            split_mut(&mut self.wide[1..], lines.iter().copied())
                .into_iter()
                .map(|wide| Slot {
                    wide,
                    codes: Default::default(),
                })
                .collect()
        } else {
            lines.iter().map(|_| Slot::default()).collect()
        }
    }
}

/// A categorical column from its chunks. Chunks coded against their own dictionaries are
/// merged: one lookup per distinct value of each chunk, then every code is remapped in place.
/// When any chunk kept its text (too many distinct values), all are encoded from text.
fn finish_categorical(mut codes: Vec<u32>, parts: Vec<Builder>, lines: &[usize]) -> Categorical {
    let lens: Vec<usize> = parts.iter().map(Builder::len).collect();
    let chunks: Vec<CatChunk> = parts
        .into_iter()
        .map(|p| match p {
            Builder::Cat(CatChunk::Parsing(_)) => unreachable!("every chunk is sealed"),
            Builder::Cat(c) => c,
            other => unreachable!(
                "a categorical column's chunks are categorical, not {:?}",
                other.kind()
            ),
        })
        .collect();
    let slots = split_mut(&mut codes, lines.iter().copied());
    let dictionaries: Option<Vec<&Strings>> = chunks
        .iter()
        .map(|c| match c {
            CatChunk::Coded { values, .. } => Some(values),
            _ => None,
        })
        .collect();
    if let Some(dictionaries) = dictionaries {
        let (categories, remaps) = merge_dictionaries(&dictionaries);
        slots
            .into_par_iter()
            .zip(&remaps)
            .zip(&lens)
            .for_each(|((slot, remap), &len)| {
                for c in &mut slot[..len] {
                    if *c != NULL_CODE {
                        *c = remap[*c as usize];
                    }
                }
            });
        let rows = compact(&mut codes, lines, &lens);
        codes.truncate(rows);
        return Categorical::from_parts(codes, categories);
    }
    let texts: Vec<Strings> = chunks
        .into_par_iter()
        .zip(slots)
        .map(|(c, slot)| match c {
            CatChunk::Text(s) => s,
            CatChunk::Coded { values, len } => Strings::from_options(
                slot[..len]
                    .iter()
                    .map(|&c| (c != NULL_CODE).then(|| values.raw(c as usize))),
            ),
            CatChunk::Parsing(_) => unreachable!("every chunk is sealed"),
        })
        .collect();
    drop(codes);
    encode_text(&texts)
}

/// One column from its chunks: `buf` holds the column's final buffer, `target` is the type
/// every chunk agreed on.
pub(super) fn finish_column(
    buf: ColumnBuf,
    parts: Vec<Builder>,
    lines: &[usize],
    target: Kind,
) -> Column {
    let lens: Vec<usize> = parts.iter().map(Builder::len).collect();
    let rows: usize = lens.iter().sum();
    let ColumnBuf {
        wide: mut buf,
        codes,
    } = buf;
    match target {
        Kind::Infer => Column::Mixed(vec![crate::Value::Null; rows]),
        Kind::Cat => Column::Categorical(finish_categorical(codes, parts, lines)),
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
