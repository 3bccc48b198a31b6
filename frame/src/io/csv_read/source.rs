//! Where CSV text comes from: a buffer in memory, or a file read one chunk at a time.
//!
//! Reading a whole file into one buffer makes the kernel hand out (and zero) as many fresh
//! pages as the file is long, only for the text to be thrown away after parsing. A file is
//! instead read chunk by chunk into a few reused buffers (one per task in flight), with
//! positioned reads. The text then costs no new memory but two copies from the page cache:
//! one pass counts each chunk's lines (which sizes the column buffers), the parse reads it
//! again (a copy is a read of memory the kernel already holds; a fresh file-sized buffer
//! must first be zeroed by the kernel, page by page).

use std::fs::File;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use crate::error::{FrameError, Result};

/// Bytes of CSV text addressed by position.
pub(super) trait Source: Sync {
    /// Total length in bytes.
    fn len(&self) -> usize;

    /// Calls `f` with bytes `range` (which must lie within `0..len()`).
    fn with_bytes<R>(&self, range: Range<usize>, f: impl FnOnce(&[u8]) -> R) -> Result<R>;

    /// The position of the first line feed at or after `from`, if any.
    fn next_line_feed(&self, from: usize) -> Result<Option<usize>> {
        const WINDOW: usize = 1 << 16;
        let mut at = from;
        while at < self.len() {
            let end = (at + WINDOW).min(self.len());
            if let Some(i) = self.with_bytes(at..end, |b| b.iter().position(|&c| c == b'\n'))? {
                return Ok(Some(at + i));
            }
            at = end;
        }
        Ok(None)
    }
}

/// Text already in memory.
pub(super) struct Memory<'a>(pub(super) &'a [u8]);

impl Source for Memory<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn with_bytes<R>(&self, range: Range<usize>, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        Ok(f(&self.0[range]))
    }
}

/// A file read with positioned reads into pooled buffers, so parallel tasks share it.
pub(super) struct FileText {
    file: PositionedFile,
    len: usize,
    path: String,
    /// Buffers returned by finished reads; at most one per task that ran at once.
    pool: Mutex<Vec<Vec<u8>>>,
}

impl FileText {
    /// Opens `path` for chunked reading.
    pub(super) fn open(path: &std::path::Path) -> Result<Self> {
        let io = |source| FrameError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(FileText {
            file: PositionedFile::new(file),
            len: usize::try_from(len).map_err(|_| {
                io(std::io::Error::other(
                    "the file is larger than this machine's address space",
                ))
            })?,
            path: path.display().to_string(),
            pool: Mutex::new(Vec::new()),
        })
    }
}

impl Source for FileText {
    fn len(&self) -> usize {
        self.len
    }

    fn with_bytes<R>(&self, range: Range<usize>, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        let mut buf = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let n = range.len();
        if buf.len() < n {
            buf.resize(n, 0);
        }
        self.file
            .read_exact_at(&mut buf[..n], range.start as u64)
            .map_err(|source| FrameError::Io {
                path: self.path.clone(),
                source,
            })?;
        let out = f(&buf[..n]);
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buf);
        Ok(out)
    }
}

/// A file that parallel tasks read at explicit offsets.
struct PositionedFile {
    #[cfg(unix)]
    file: File,
    /// Without positioned reads, a seek and a read must not interleave with another task's.
    #[cfg(not(unix))]
    file: Mutex<File>,
}

impl PositionedFile {
    fn new(file: File) -> Self {
        #[cfg(unix)]
        return PositionedFile { file };
        #[cfg(not(unix))]
        return PositionedFile {
            file: Mutex::new(file),
        };
    }

    #[cfg(unix)]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }

    #[cfg(not(unix))]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_memory_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("{i},{}\n", i % 7).into_bytes())
            .collect();
        std::fs::write(&path, &text).unwrap();
        let file = FileText::open(&path).unwrap();
        let memory = Memory(&text);
        assert_eq!(file.len(), memory.len());
        for range in [0..10, 5..70_000, 1_000_000..text.len(), 0..0] {
            let a = file.with_bytes(range.clone(), <[u8]>::to_vec).unwrap();
            let b = memory.with_bytes(range, <[u8]>::to_vec).unwrap();
            assert_eq!(a, b);
        }
        for from in [0, 3, 100_000, text.len() - 1] {
            assert_eq!(
                file.next_line_feed(from).unwrap(),
                memory.next_line_feed(from).unwrap()
            );
        }
        assert_eq!(memory.next_line_feed(text.len()).unwrap(), None);
    }
}
