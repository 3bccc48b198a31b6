//! The checkpoint file format: a small header with a CRC, then the deflated state.
//!
//! Layout: `b"SRCK"`, format version (u32 LE), CRC-32 of the uncompressed payload (u32 LE),
//! payload length (u64 LE), deflate stream. Files are written to a temporary name and renamed,
//! so a run killed mid-write never leaves a truncated file under a checkpoint's name.

use std::io::{Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use crate::error::{ReplayError, Result};

const MAGIC: &[u8; 4] = b"SRCK";
/// The checkpoint format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 4 + 4 + 4 + 8;

/// Compresses `raw` into a checkpoint image.
pub(crate) fn encode(raw: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(raw);
    let mut out = Vec::with_capacity(HEADER + raw.len() / 2);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(raw.len() as u64).to_le_bytes());
    // Fast compression: the writer thread must keep up with the training thread.
    let mut enc = DeflateEncoder::new(out, Compression::fast());
    enc.write_all(raw).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Checks and decompresses a checkpoint image read from `path`.
pub(crate) fn decode(path: &Path, image: &[u8]) -> Result<Vec<u8>> {
    let corrupt = |reason: &str| ReplayError::CorruptCheckpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if image.len() < HEADER || &image[..4] != MAGIC {
        return Err(corrupt("bad header"));
    }
    let word = |at: usize| u32::from_le_bytes(image[at..at + 4].try_into().expect("4 bytes"));
    let version = word(4);
    if version != FORMAT_VERSION {
        return Err(ReplayError::UnsupportedCheckpointFormat {
            path: path.to_path_buf(),
            found: version,
            expected: FORMAT_VERSION,
        });
    }
    let crc = word(8);
    let len = u64::from_le_bytes(image[12..20].try_into().expect("8 bytes"));
    let mut raw = Vec::new();
    // `take` bounds memory even if the length field is garbage.
    DeflateDecoder::new(&image[HEADER..])
        .take(len.saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(|e| corrupt(&format!("deflate: {e}")))?;
    if raw.len() as u64 != len {
        return Err(corrupt("length mismatch"));
    }
    let mut check = flate2::Crc::new();
    check.update(&raw);
    if check.sum() != crc {
        return Err(corrupt("checksum mismatch"));
    }
    Ok(raw)
}

/// Writes an image atomically (temporary file, then rename).
pub(crate) fn write_file(path: &Path, image: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, image).map_err(|e| ReplayError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ReplayError::io(path, e))
}

/// Reads and checks a checkpoint file, returning the uncompressed state bytes.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    let image = std::fs::read(path).map_err(|e| ReplayError::io(path, e))?;
    decode(path, &image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let raw: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let image = encode(&raw);
        let p = Path::new("x.ck");
        assert_eq!(decode(p, &image).unwrap(), raw);
        let mut flipped = image.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 0x55;
        assert!(decode(p, &flipped).is_err());
        assert!(matches!(
            decode(p, &image[..image.len() / 2]),
            Err(ReplayError::CorruptCheckpoint { .. })
        ));
        let mut v2 = image.clone();
        v2[4] = 2;
        assert!(matches!(
            decode(p, &v2),
            Err(ReplayError::UnsupportedCheckpointFormat { found: 2, .. })
        ));
        assert!(matches!(
            decode(p, b"nope"),
            Err(ReplayError::CorruptCheckpoint { .. })
        ));
    }
}
