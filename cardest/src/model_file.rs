//! A versioned binary model file.
//!
//! Layout (little-endian): magic `STRCDEST`, format version (u32), column count (u32), each
//! domain size (u32), hidden width (u32), layers (u32), seed (u64), then every weight matrix
//! and bias vector as f64 in row-major order. The connectivity masks are not stored: they
//! are a function of the configuration, rebuilt by [`Made::new`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::made::{Made, MadeConfig};

const MAGIC: &[u8; 8] = b"STRCDEST";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

impl Made {
    /// Serialise the model.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.domains().len() as u32).to_le_bytes());
        for &d in self.domains() {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        let cfg = self.config();
        out.extend_from_slice(&(cfg.hidden as u32).to_le_bytes());
        out.extend_from_slice(&(cfg.layers as u32).to_le_bytes());
        out.extend_from_slice(&cfg.seed.to_le_bytes());
        for (w, b) in self.params.weights.iter().zip(&self.params.biases) {
            for x in w.iter().chain(b.iter()) {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    /// Deserialise a model written by [`Made::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Made> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8)? != MAGIC {
            return Err(Error::NotAModel);
        }
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(Error::ModelVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let n = r.u32()? as usize;
        // Each domain takes 4 bytes: reject absurd counts before allocating.
        if n.saturating_mul(4) > bytes.len() {
            return Err(Error::CorruptModel("column count larger than the file"));
        }
        let domains = (0..n)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>>>()?;
        let hidden = r.u32()? as usize;
        let layers = r.u32()? as usize;
        let seed = r.u64()?;
        // Check the payload size before building (building allocates the full model).
        let mut expected = 0usize;
        let (din, dout) = (
            domains.iter().map(|d| d + 1).sum::<usize>(),
            domains.iter().sum::<usize>(),
        );
        let mut prev = din;
        for l in 0..=layers {
            let width = if l == layers { dout } else { hidden };
            expected = expected.saturating_add(prev.saturating_mul(width).saturating_add(width));
            prev = width;
        }
        if expected.saturating_mul(8) != bytes.len() - r.pos {
            return Err(Error::CorruptModel("parameter payload has the wrong size"));
        }
        let mut model = Made::new(
            &domains,
            &MadeConfig {
                hidden,
                layers,
                seed,
            },
        )
        .map_err(|_| Error::CorruptModel("invalid configuration"))?;
        for l in 0..model.params.weights.len() {
            for x in model.params.weights[l].iter_mut() {
                *x = r.f64()?;
            }
            for x in model.params.biases[l].iter_mut() {
                *x = r.f64()?;
            }
        }
        model.apply_masks();
        Ok(model)
    }

    /// Write the model to a file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// Read a model from a file.
    pub fn load(path: impl AsRef<Path>) -> Result<Made> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Made::from_bytes(&bytes)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(Error::CorruptModel("file ends early"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}
