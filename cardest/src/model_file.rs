//! A versioned binary model file.
//!
//! Layout (little-endian): magic `STRCDEST`, format version (u32), column count (u32), each
//! domain size (u32), hidden width (u32), layers (u32), residual (u8), input encoding (u8),
//! output encoding (u8), embedding width (u32), smallest domain that reuses embeddings
//! (u32), seed (u64), factorization digit width ([`MadeConfig::factor_bits`], u32), then per
//! column its digits' base (u32) and number of digits (u32), the table's [`Schema`] (a u8
//! flag, then the schema if it is 1: see [`Schema`]'s layout), then every tensor as f32 in a
//! fixed order. The connectivity masks are not stored: they are a function of the
//! configuration, rebuilt by [`Made::new`]. The factorization is stored explicitly and
//! checked against the one `factor_bits` gives, so a file never silently maps codes onto
//! digits differently from the model that wrote it. Version 4 differs from version 3 only
//! in how the hidden units' degrees are laid out (sorted instead of cyclic), which the
//! masks are rebuilt from; version 5 adds the schema section. All three are read (a version
//! 3 or 4 model has no schema: estimates then need the table, or [`Made::set_schema`]). Versions 1 (f64 MADE, one-hot only) and 2 (no
//! factorization) are no longer read: their files are rejected with [`Error::ModelVersion`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::factor::{Factor, Factorization};
use crate::made::{
    DegreeLayout, InputEncoding, Made, MadeConfig, OutputEncoding, Real, tensor_lengths,
};
use crate::schema::Schema;

const MAGIC: &[u8; 8] = b"STRCDEST";
/// The format version this build writes (it also reads versions 3 and 4).
pub const FORMAT_VERSION: u32 = 5;

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
        match self.schema() {
            None => out.push(0),
            Some(schema) => {
                out.push(1);
                schema.write(&mut out);
            }
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
        let mut r = Reader::new(bytes);
        if r.take(8)? != MAGIC {
            return Err(Error::NotAModel);
        }
        let version = r.u32()?;
        let layout = match version {
            3 => DegreeLayout::Cyclic,
            4 | FORMAT_VERSION => DegreeLayout::Sorted,
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
        let schema = match version {
            3 | 4 => None,
            _ => match r.take(1)?[0] {
                0 => None,
                1 => Some(Schema::read(&mut r, &domains)?),
                _ => return Err(Error::CorruptModel("bad schema flag")),
            },
        };
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
        model.schema = schema;
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

/// Reads a model file front to back; running out of bytes is [`Error::CorruptModel`].
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(Error::CorruptModel("file ends early"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub(crate) fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    /// A u32 byte length, then that many bytes of UTF-8.
    pub(crate) fn string(&mut self) -> Result<String> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::CorruptModel("a name is not UTF-8"))
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
        let v3 = older(&cyclic, 3);
        assert_eq!(Made::from_bytes(&v3).unwrap(), cyclic);
        let v4 = older(&sorted, 4);
        assert_eq!(Made::from_bytes(&v4).unwrap(), sorted);
    }

    /// A model without a schema written as format `version` (3 or 4): the current layout
    /// less the schema flag, which those versions did not have.
    fn older(model: &Made, version: u32) -> Vec<u8> {
        assert!(model.schema().is_none());
        let n = model.domains().len();
        // magic, version, count, domains, hidden, layers, 3 flags, embedding, reuse, seed,
        // factor bits, then (base, digits) per column: the schema flag follows.
        let flag = 8 + 4 + 4 + 4 * n + 4 + 4 + 3 + 4 + 4 + 8 + 4 + 8 * n;
        let mut bytes = model.to_bytes();
        assert_eq!(bytes.remove(flag), 0);
        bytes[8..12].copy_from_slice(&version.to_le_bytes());
        bytes
    }

    /// A schema section that does not describe a valid table of the model's domains is
    /// [`Error::CorruptModel`], whatever is wrong with it.
    #[test]
    fn damaged_schemas_are_rejected() {
        use crate::{ColumnData, Table};
        let t = Table::from_columns(vec![
            (
                "n".into(),
                ColumnData::Num(vec![Some(1.5), Some(-2.0), None, Some(8.0)]),
            ),
            (
                "s".into(),
                ColumnData::Str(vec![Some("b".into()), Some("a".into()), None, None]),
            ),
        ])
        .unwrap();
        let domains = t.domains();
        let schema = t.schema();
        let mut good = Vec::new();
        schema.write(&mut good);
        assert_eq!(
            Schema::read(&mut Reader::new(&good), &domains).unwrap(),
            schema
        );
        let rejected = |bytes: &[u8], domains: &[usize]| {
            matches!(
                Schema::read(&mut Reader::new(bytes), domains),
                Err(Error::CorruptModel(_))
            )
        };
        // Layout: rows u64 (0..8), count u32 (8..12), "n": name len (12..16), 'n' (16),
        // kind (17), null flag (18), 3 values (19..23 count, 23..47 f64s), then "s".
        for cut in [0, 5, 11, 20, 30, good.len() - 1] {
            assert!(rejected(&good[..cut], &domains), "cut at {cut}");
        }
        assert_eq!(domains, [4, 3]);
        assert!(rejected(&good, &[4, 4]), "domain mismatch");
        assert!(rejected(&good, &[4]), "column count");
        let mut unsorted = good.clone();
        unsorted[23..31].copy_from_slice(&9.0f64.to_le_bytes());
        assert!(rejected(&unsorted, &domains));
        let mut nan = good.clone();
        nan[23..31].copy_from_slice(&f64::NAN.to_le_bytes());
        assert!(rejected(&nan, &domains));
        let mut kind = good.clone();
        kind[17] = 7;
        assert!(rejected(&kind, &domains));
        let mut flag = good.clone();
        flag[18] = 2;
        assert!(rejected(&flag, &domains));
        let mut dup = good.clone();
        let s_name = 47 + 4;
        assert_eq!(dup[s_name], b's');
        dup[s_name] = b'n';
        assert!(rejected(&dup, &domains));
        let mut huge = good.clone();
        huge[19..23].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(rejected(&huge, &domains));
        let mut utf8 = good;
        utf8[16] = 0xff;
        assert!(rejected(&utf8, &domains));
    }
}
