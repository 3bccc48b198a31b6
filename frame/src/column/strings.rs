//! UTF-8 string columns: one contiguous buffer plus offsets, as Arrow lays them out.

use rayon::prelude::*;

use crate::partition::{filled, split_mut};

/// Strings stored back to back in one buffer; row `i` is `data[offsets[i]..offsets[i+1]]`.
/// One allocation per column instead of one per cell keeps memory near the raw text size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Strings {
    pub(crate) data: String,
    pub(crate) offsets: Vec<usize>,
    pub(crate) validity: Option<Vec<bool>>,
}

impl Strings {
    /// An empty column with room for `rows` rows and `bytes` bytes of text.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Strings {
            data: String::with_capacity(bytes),
            offsets,
            validity: None,
        }
    }

    /// A column from optional strings.
    pub fn from_options<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> Self {
        let mut out = Strings::with_capacity(0, 0);
        for v in values {
            out.push(v.as_ref().map(AsRef::as_ref));
        }
        out
    }

    /// Appends one row.
    pub fn push(&mut self, value: Option<&str>) {
        match value {
            Some(s) => {
                self.data.push_str(s);
                if let Some(v) = &mut self.validity {
                    v.push(true);
                }
            }
            None => {
                let len = self.len();
                self.validity
                    .get_or_insert_with(|| vec![true; len])
                    .push(false);
            }
        }
        self.offsets.push(self.data.len());
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` holds a value.
    #[inline]
    pub fn is_valid(&self, i: usize) -> bool {
        self.validity.as_ref().is_none_or(|v| v[i])
    }

    /// Row `i` without the null check (a null row reads as "").
    #[inline]
    pub fn raw(&self, i: usize) -> &str {
        &self.data[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Row `i`, `None` when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        self.is_valid(i).then(|| self.raw(i))
    }

    /// The validity mask, `None` when no value is null.
    pub fn validity(&self) -> Option<&[bool]> {
        self.validity.as_deref()
    }

    /// Number of nulls.
    pub fn null_count(&self) -> usize {
        self.validity
            .as_ref()
            .map_or(0, |v| v.iter().filter(|&&b| !b).count())
    }

    pub(crate) fn take(&self, idx: &[usize]) -> Self {
        self.gather(idx.len(), |k| Some(idx[k]))
    }

    /// Row `k` of the result is row `pick(k)` of `self` (`None`: null). Two passes over row
    /// chunks, both parallel: the first sums each chunk's bytes, so every chunk knows where
    /// its text starts; the second copies each chunk's strings (slices, not characters) and
    /// offsets straight into the one result buffer — no per-chunk buffers to concatenate.
    pub(crate) fn gather(&self, len: usize, pick: impl Fn(usize) -> Option<usize> + Sync) -> Self {
        let chunks = if len < super::PAR_THRESHOLD {
            std::iter::once(0..len).collect()
        } else {
            crate::partition::split(len, rayon::current_num_threads() * 4)
        };
        let picked = |k: usize| pick(k).filter(|&i| self.is_valid(i));
        // Bytes per chunk, and whether any picked row is null.
        let sizes: Vec<(usize, bool)> = chunks
            .par_iter()
            .map(|r| {
                r.clone()
                    .fold((0, false), |(bytes, null), k| match picked(k) {
                        Some(i) => (bytes + self.offsets[i + 1] - self.offsets[i], null),
                        None => (bytes, true),
                    })
            })
            .collect();
        let total: usize = sizes.iter().map(|s| s.0).sum();
        let any_null = sizes.iter().any(|s| s.1);
        let mut data = filled(total, 0u8);
        let mut offsets = filled(len + 1, 0usize);
        let mut validity = vec![true; if any_null { len } else { 0 }];
        // Disjoint output pieces per chunk.
        let vlens = chunks.iter().map(|r| if any_null { r.len() } else { 0 });
        let bases = sizes.iter().scan(0, |at, &(bytes, _)| {
            *at += bytes;
            Some(*at - bytes)
        });
        let pieces: Vec<_> = chunks
            .iter()
            .cloned()
            .zip(bases)
            .zip(split_mut(&mut data, sizes.iter().map(|s| s.0)))
            .zip(split_mut(&mut offsets[1..], chunks.iter().map(|r| r.len())))
            .zip(split_mut(&mut validity, vlens))
            .map(|((((r, base), d), o), v)| (r, base, d, o, v))
            .collect();
        let src = self.data.as_bytes();
        pieces
            .into_par_iter()
            .for_each(|(r, base, data, offsets, validity)| {
                let mut at = 0;
                for (j, k) in r.enumerate() {
                    match picked(k) {
                        Some(i) => {
                            let (a, b) = (self.offsets[i], self.offsets[i + 1]);
                            let n = b - a;
                            // A short string is moved as a fixed 16 bytes when both buffers
                            // have room (an inlined move instead of a `memcpy` call per row);
                            // the bytes past it are overwritten by the rows after it, and the
                            // piece's last rows take the exact copy.
                            if n <= 16 && at + 16 <= data.len() && a + 16 <= src.len() {
                                data[at..at + 16].copy_from_slice(&src[a..a + 16]);
                            } else {
                                data[at..at + n].copy_from_slice(&src[a..b]);
                            }
                            at += n;
                        }
                        None if !validity.is_empty() => validity[j] = false,
                        None => {}
                    }
                    offsets[j] = base + at;
                }
            });
        Strings {
            // Whole strings copied from valid UTF-8 text, back to back, stay valid UTF-8.
            data: String::from_utf8(data).expect("whole UTF-8 strings concatenated"),
            offsets,
            validity: any_null.then_some(validity),
        }
    }

    pub(crate) fn slice(&self, start: usize, len: usize) -> Self {
        let idx: Vec<usize> = (start..start + len).collect();
        self.take(&idx)
    }

    pub(crate) fn concat(parts: &[&Strings]) -> Self {
        let rows = parts.iter().map(|p| p.len()).sum();
        let bytes = parts.iter().map(|p| p.data.len()).sum();
        let mut out = Strings::with_capacity(rows, bytes);
        let any_nulls = parts.iter().any(|p| p.validity.is_some());
        let mut validity = Vec::new();
        for p in parts {
            let base = out.data.len();
            out.data.push_str(&p.data);
            out.offsets.extend(p.offsets[1..].iter().map(|o| o + base));
            if any_nulls {
                match &p.validity {
                    Some(v) => validity.extend_from_slice(v),
                    None => validity.resize(validity.len() + p.len(), true),
                }
            }
        }
        out.validity = any_nulls.then_some(validity);
        out
    }

    /// Iterates over rows.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}
