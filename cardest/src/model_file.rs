//! A versioned binary model file.
//!
//! Layout (little-endian): magic `STRCDEST`, format version (u32), column count (u32), each
//! domain size (u32), hidden width (u32), layers (u32), residual (u8), input encoding (u8),
//! output encoding (u8), embedding width (u32), smallest domain that reuses embeddings
//! (u32), seed (u64), factorization digit width ([`MadeConfig::factor_bits`], u32), then per
//! column its digits' base (u32) and number of digits (u32), then every tensor as f32 in a
//! fixed order. The connectivity masks are not stored: they are a function of the
//! configuration, rebuilt by [`Made::new`]. The factorization is stored explicitly and
//! checked against the one `factor_bits` gives, so a file never silently maps codes onto
//! digits differently from the model that wrote it. Version 4 differs from version 3 only
//! in how the hidden units' degrees are laid out (sorted instead of cyclic), which the
//! masks are rebuilt from; both are read. Versions 1 (f64 MADE, one-hot only) and 2 (no
//! factorization) are no longer read: their files are rejected with [`Error::ModelVersion`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::factor::{Factor, Factorization};
use crate::made::{
    DegreeLayout, InputEncoding, Made, MadeConfig, OutputEncoding, Real, tensor_lengths,
};

const MAGIC: &[u8; 8] = b"STRCDEST";
/// The format version this build writes (it also reads version 3).
pub const FORMAT_VERSION: u32 = 4;

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
        out.push(u8::from(cfg.residual));
        out.push(match cfg.input {
            InputEncoding::OneHot => 0,
            InputEncoding::Binary => 1,
            InputEncoding::Embedding => 2,
        });
        out.push(match cfg.output {
            OutputEncoding::OneHot => 0,
            OutputEncoding::Embedding => 1,
        });
        out.extend_from_slice(&(cfg.embedding as u32).to_le_bytes());
        out.extend_from_slice(&(cfg.reuse_min_domain as u32).to_le_bytes());
        out.extend_from_slice(&cfg.seed.to_le_bytes());
        out.extend_from_slice(&cfg.factor_bits.to_le_bytes());
        for f in self.factorization().factors() {
            out.extend_from_slice(&f.base.to_le_bytes());
            out.extend_from_slice(&f.digits.to_le_bytes());
        }
        for t in self.params.tensors() {
            for &x in t {
                x.write_le(&mut out);
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
        let layout = match r.u32()? {
            3 => DegreeLayout::Cyclic,
            FORMAT_VERSION => DegreeLayout::Sorted,
            found => {
                return Err(Error::ModelVersion {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
        };
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
        let residual = match r.take(1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(Error::CorruptModel("bad residual flag")),
        };
        let input = match r.take(1)?[0] {
            0 => InputEncoding::OneHot,
            1 => InputEncoding::Binary,
            2 => InputEncoding::Embedding,
            _ => return Err(Error::CorruptModel("unknown input encoding")),
        };
        let output = match r.take(1)?[0] {
            0 => OutputEncoding::OneHot,
            1 => OutputEncoding::Embedding,
            _ => return Err(Error::CorruptModel("unknown output encoding")),
        };
        let embedding = r.u32()? as usize;
        let reuse_min_domain = r.u32()? as usize;
        let seed = r.u64()?;
        let factor_bits = r.u32()?;
        let stored = domains
            .iter()
            .map(|&domain| {
                Ok(Factor {
                    domain,
                    base: r.u32()?,
                    digits: r.u32()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if stored != Factorization::new(&domains, factor_bits).factors() {
            return Err(Error::CorruptModel(
                "factorization does not match its digit width",
            ));
        }
        let cfg = MadeConfig {
            hidden,
            layers,
            residual,
            input,
            output,
            embedding,
            reuse_min_domain,
            factor_bits,
            seed,
        };
        // Check the payload size before building (building allocates the full model).
        let expected = tensor_lengths(&domains, &cfg)
            .into_iter()
            .fold(0usize, usize::saturating_add);
        if expected.saturating_mul(f32::BYTES) != bytes.len() - r.pos {
            return Err(Error::CorruptModel("parameter payload has the wrong size"));
        }
        let mut model = Made::build(&domains, &cfg, layout)
            .map_err(|_| Error::CorruptModel("invalid configuration"))?;
        for t in model.params.tensors_mut() {
            for x in t {
                *x = f32::read_le(r.take(f32::BYTES)?);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::made::{DegreeLayout, Network};

    /// A format-3 file (cyclic degrees) still loads as the model that wrote it, and a
    /// current one round-trips with sorted degrees; the two layouts build different masks,
    /// so the version is what tells them apart.
    #[test]
    fn both_degree_layouts_round_trip() {
        let cfg = MadeConfig {
            hidden: 16,
            seed: 3,
            ..Default::default()
        };
        let domains = [4, 7, 3, 5];
        let sorted = Made::new(&domains, &cfg).unwrap();
        assert_eq!(Made::from_bytes(&sorted.to_bytes()).unwrap(), sorted);
        let cyclic = Network::<f32>::build(&domains, &cfg, DegreeLayout::Cyclic).unwrap();
        assert_ne!(cyclic, sorted);
        let mut v3 = cyclic.to_bytes();
        v3[8..12].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(Made::from_bytes(&v3).unwrap(), cyclic);
    }
}
