//! One chunk's categorical column: its text gathered while the chunk parses, then encoded
//! against the chunk's own dictionary before the chunk's task ends.
//!
//! Encoding inside the chunk's task means the text of only the chunks in flight is ever
//! held: the column keeps 4-byte codes (written straight into its final buffer) and each
//! chunk's distinct values, where keeping every chunk's text for one encoding pass at the
//! end held 13 bytes a row (text plus an 8-byte offset) for a 5-byte key. Encoding after the
//! chunk's records are parsed, not while, keeps the dictionary in cache: during the parse the
//! streaming file text evicts it (measured 5x slower for 1e5 distinct values).

use crate::column::{NULL_CODE, Strings, encode_chunk};

/// A chunk's categorical column while it parses: the text of its valid rows, back to back.
/// Its slot of the column's code buffer holds [`NULL_CODE`] for null rows.
#[derive(Default)]
pub(super) struct CatText {
    data: Vec<u8>,
    /// End of each valid row's text in `data`.
    ends: Vec<usize>,
    /// Rows pushed, null or not.
    len: usize,
}

/// A chunk's categorical column once its parse is done.
pub(super) enum CatChunk {
    /// Still parsing.
    Parsing(CatText),
    /// Codes (in the slot) into `values`, the chunk's distinct values in first-seen order.
    Coded { values: Strings, len: usize },
    /// Too many distinct values for a chunk dictionary to pay (merging them would cost as
    /// much as encoding the rows): the rows' text, for the hash-partitioned encoder.
    Text(Strings),
}

impl CatText {
    /// Room for `rows` more rows of about `bytes` bytes in all.
    pub(super) fn reserve(&mut self, rows: usize, bytes: usize) {
        self.data.reserve(bytes);
        self.ends.reserve(rows);
    }

    pub(super) fn bytes(&self) -> usize {
        self.data.len()
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends a valid row; its code slot must hold anything but [`NULL_CODE`].
    #[inline]
    pub(super) fn push(&mut self, field: &[u8]) {
        self.data.extend_from_slice(field);
        self.ends.push(self.data.len());
        self.len += 1;
    }

    /// Appends a null row (its code slot holds [`NULL_CODE`]).
    #[inline]
    pub(super) fn push_null(&mut self) {
        self.len += 1;
    }

    /// Encodes the chunk's rows against its own dictionary, writing each valid row's code
    /// into `codes` (whose nulls are marked already); falls back to the text when the chunk
    /// has more than a quarter as many distinct values as rows.
    pub(super) fn seal(self, codes: &mut [u32]) -> CatChunk {
        let codes = &mut codes[..self.len];
        let limit = (self.ends.len() / 4).max(1 << 12);
        let valid = self.ends.iter().scan(0, |start, &end| {
            let range = *start..end;
            *start = end;
            Some(range)
        });
        match encode_chunk(&self.data, valid, codes, limit) {
            Some(values) => CatChunk::Coded {
                values,
                len: self.len,
            },
            None => CatChunk::Text(self.into_strings(codes)),
        }
    }

    /// The rows as a string column (`codes` marks the nulls).
    fn into_strings(self, codes: &[u32]) -> Strings {
        let any_null = self.ends.len() < self.len;
        let mut offsets = Vec::with_capacity(self.len + 1);
        offsets.push(0);
        let mut validity = Vec::with_capacity(if any_null { self.len } else { 0 });
        let mut ends = self.ends.iter();
        let mut at = 0;
        for &c in codes {
            if c != NULL_CODE {
                at = *ends.next().expect("one end per valid row");
            }
            offsets.push(at);
            if any_null {
                validity.push(c != NULL_CODE);
            }
        }
        Strings {
            // Fields cut from validated UTF-8 text at ASCII delimiters are UTF-8.
            data: String::from_utf8(self.data).expect("fields of UTF-8 text"),
            offsets,
            validity: any_null.then_some(validity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows` pushed as a chunk's parse pushes them, then sealed; with the codes written.
    fn sealed(rows: &[Option<&str>]) -> (CatChunk, Vec<u32>) {
        let mut text = CatText::default();
        let mut codes = Vec::new();
        for r in rows {
            match r {
                Some(s) => {
                    text.push(s.as_bytes());
                    codes.push(0);
                }
                None => {
                    text.push_null();
                    codes.push(NULL_CODE);
                }
            }
        }
        let chunk = text.seal(&mut codes);
        (chunk, codes)
    }

    fn values(chunk: &CatChunk) -> Vec<Option<&str>> {
        let CatChunk::Coded { values, .. } = chunk else {
            panic!("a chunk of few distinct values is coded")
        };
        values.iter().collect()
    }

    #[test]
    fn codes_follow_first_appearance_and_skip_nulls() {
        let long = "a value longer than fifteen bytes";
        let rows = [
            Some("b"),
            None,
            Some("a"),
            Some(long),
            Some("b"),
            Some(""),
            Some(long),
        ];
        let (chunk, codes) = sealed(&rows);
        assert_eq!(values(&chunk), [Some("b"), Some("a"), Some(long), Some("")]);
        assert_eq!(codes, [0, NULL_CODE, 1, 2, 0, 3, 2]);
    }

    #[test]
    fn packed_keys_tell_trailing_zero_bytes_apart() {
        let (chunk, codes) = sealed(&[Some("a"), Some("a\0"), Some("a")]);
        assert_eq!(values(&chunk).len(), 2);
        assert_eq!(codes, [0, 1, 0]);
    }

    #[test]
    fn too_many_values_give_the_text_back() {
        let rows: Vec<String> = (0..5000).map(|i| format!("v{i}")).collect();
        let mut opts: Vec<Option<&str>> = rows.iter().map(|s| Some(s.as_str())).collect();
        opts[7] = None;
        // 4,999 distinct values in as many valid rows: past the floor of 4,096 values and
        // over a quarter of the rows, so the chunk keeps its text.
        let (CatChunk::Text(strings), _) = sealed(&opts) else {
            panic!("a chunk of distinct values keeps its text")
        };
        assert_eq!(strings.iter().collect::<Vec<_>>(), opts);
    }
}
