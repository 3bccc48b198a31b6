//! File contents: sparse fixed-size blocks. A block at or past `ceil(size / BLOCK_SIZE)`
//! never exists (truncation deletes them), so writes past the end need not read anything,
//! and holes are simply missing blocks.

use crate::error::{FsError, Result};
use crate::record::{BLOCK_SIZE, FileKind, Ino, Inode, Key, MAX_FILE_SIZE, Scan, Value};
use crate::txn::Txn;

impl Txn {
    fn file_inode(&mut self, ino: Ino) -> Result<Inode> {
        let inode = self.getattr(ino)?;
        match inode.kind {
            FileKind::File => Ok(inode),
            FileKind::Dir => Err(FsError::IsDir {
                path: format!("inode {ino}"),
            }),
            _ => Err(FsError::invalid("not a regular file")),
        }
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns the count (0 at or past the end).
    /// Holes read as zeros. Reads do not update `atime` (noatime), so that readers never
    /// conflict with each other.
    pub fn read_at(&mut self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.live()?;
        let inode = self.file_inode(ino)?;
        if offset >= inode.size {
            return Ok(0);
        }
        let n = (inode.size - offset).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < n {
            let pos = offset + done as u64;
            let idx = pos / BLOCK_SIZE;
            let within = (pos % BLOCK_SIZE) as usize;
            let chunk = (BLOCK_SIZE as usize - within).min(n - done);
            let out = &mut buf[done..done + chunk];
            match self.get(&Key::Block(ino, idx))?.as_deref() {
                Some(Value::Block(b)) => {
                    let have = b.len().saturating_sub(within).min(chunk);
                    out[..have].copy_from_slice(&b[within..within + have]);
                    out[have..].fill(0);
                }
                _ => out.fill(0),
            }
            done += chunk;
        }
        Ok(n)
    }

    /// Writes `data` at `offset`, extending the file (with a hole if `offset` is past the
    /// end); returns the count written.
    pub fn write_at(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize> {
        self.live()?;
        let mut inode = self.file_inode(ino)?;
        let end = offset
            .checked_add(data.len() as u64)
            .filter(|e| *e <= MAX_FILE_SIZE)
            .ok_or(FsError::TooLarge)?;
        let existing_blocks = inode.size.div_ceil(BLOCK_SIZE);
        let mut done = 0;
        while done < data.len() {
            let pos = offset + done as u64;
            let idx = pos / BLOCK_SIZE;
            let within = (pos % BLOCK_SIZE) as usize;
            let chunk = (BLOCK_SIZE as usize - within).min(data.len() - done);
            let src = &data[done..done + chunk];
            if idx >= existing_blocks || (within == 0 && chunk == BLOCK_SIZE as usize) {
                // Nothing to preserve: past the end, or the whole block is overwritten.
                self.fresh_block(ino, idx, within, src);
            } else {
                let block = self.block_mut(ino, idx)?;
                if block.len() < within + chunk {
                    block.resize(within + chunk, 0);
                }
                block[within..within + chunk].copy_from_slice(src);
            }
            done += chunk;
        }
        inode.size = inode.size.max(end);
        inode.mtime = self.now;
        inode.ctime = self.now;
        self.put_inode(inode);
        Ok(data.len())
    }

    fn fresh_block(&mut self, ino: Ino, idx: u64, within: usize, src: &[u8]) {
        let mut block = Vec::with_capacity(within + src.len());
        block.resize(within, 0);
        block.extend_from_slice(src);
        self.put(Key::Block(ino, idx), Value::Block(block));
    }

    /// Sets the file's size: shrinking drops the blocks past it (and trims the last), growing
    /// leaves a hole.
    pub fn set_size(&mut self, ino: Ino, size: u64) -> Result<()> {
        self.live()?;
        let mut inode = self.file_inode(ino)?;
        if size > MAX_FILE_SIZE {
            return Err(FsError::TooLarge);
        }
        if size < inode.size {
            let keep = size.div_ceil(BLOCK_SIZE);
            for (k, _) in self.scan(Scan::Blocks(ino))? {
                if let Key::Block(_, idx) = k
                    && idx >= keep
                {
                    self.delete(k);
                }
            }
            let tail = (size % BLOCK_SIZE) as usize;
            if tail != 0 {
                let key = Key::Block(ino, size / BLOCK_SIZE);
                if self.get(&key)?.is_some() {
                    let block = self.block_mut(ino, size / BLOCK_SIZE)?;
                    block.truncate(tail);
                }
            }
        }
        if size != inode.size {
            inode.size = size;
            inode.mtime = self.now;
        }
        inode.ctime = self.now;
        self.put_inode(inode);
        Ok(())
    }

    /// `SEEK_DATA` (`data: true`) or `SEEK_HOLE` from `offset`: the first offset at or after
    /// it that is data (resp. a hole; the end of the file counts as a hole).
    pub fn seek_data_or_hole(&mut self, ino: Ino, offset: u64, data: bool) -> Result<u64> {
        self.live()?;
        let inode = self.file_inode(ino)?;
        if offset >= inode.size {
            return Err(FsError::NoData { offset });
        }
        let present: std::collections::BTreeSet<u64> = self
            .scan(Scan::Blocks(ino))?
            .into_iter()
            .filter_map(|(k, _)| match k {
                Key::Block(_, i) => Some(i),
                _ => None,
            })
            .collect();
        let mut idx = offset / BLOCK_SIZE;
        loop {
            let start = (idx * BLOCK_SIZE).max(offset);
            if start >= inode.size {
                return if data {
                    Err(FsError::NoData { offset })
                } else {
                    Ok(inode.size)
                };
            }
            if present.contains(&idx) == data {
                return Ok(start);
            }
            idx = match (data, present.range(idx + 1..).next()) {
                // Jump straight to the next stored block when looking for data.
                (true, Some(next)) => *next,
                (true, None) => return Err(FsError::NoData { offset }),
                (false, _) => idx + 1,
            };
        }
    }
}
