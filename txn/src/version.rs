//! Versions, commit records and how they are named and encoded in storage.

use serde::{Deserialize, Serialize};

use crate::error::{StorageError, TxId};

/// A transaction's place in the version order: `(timestamp, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Logical timestamp taken at begin.
    pub ts: u64,
    /// The writing transaction (breaks timestamp ties).
    pub tx: TxId,
}

/// What a committed transaction wrote: stored under [`record_key`] after every version it
/// wrote is in storage, so its existence is the commit point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// The transaction's version.
    pub version: Version,
    /// Every key it wrote (deletes included), sorted.
    pub writes: Vec<String>,
}

/// The stored form of one written value (`None`: a delete).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredValue {
    pub(crate) value: Option<Vec<u8>>,
}

/// Prefix of version keys.
pub(crate) const DATA_PREFIX: &str = "data/";
/// Prefix of commit records.
pub(crate) const RECORD_PREFIX: &str = "tx/";

/// Escapes `/` and `%` so a user key is one path segment.
fn escape(key: &str) -> String {
    key.replace('%', "%25").replace('/', "%2F")
}

/// Where version `v` of `key` is stored.
pub(crate) fn version_key(key: &str, v: Version) -> String {
    format!("{DATA_PREFIX}{}/{:020}-{:020}", escape(key), v.ts, v.tx.0)
}

/// Where the commit record of `v` is stored.
pub(crate) fn record_key(v: Version) -> String {
    format!("{RECORD_PREFIX}{:020}-{:020}", v.ts, v.tx.0)
}

/// FNV-1a, to detect damaged records (postcard alone would decode some damage silently).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Encodes with a trailing checksum.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain structs of strings and integers into a Vec cannot fail.
    let mut bytes = postcard::to_stdvec(value).unwrap_or_default();
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

/// Decodes what [`encode`] wrote; damage is [`StorageError::Corrupt`].
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(
    key: &str,
    bytes: &[u8],
) -> Result<T, StorageError> {
    let corrupt = |detail: String| StorageError::Corrupt {
        key: key.to_string(),
        detail,
    };
    if bytes.len() < 8 {
        return Err(corrupt("shorter than its checksum".into()));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let mut expected = [0u8; 8];
    expected.copy_from_slice(sum);
    if checksum(body) != u64::from_le_bytes(expected) {
        return Err(corrupt("checksum mismatch".into()));
    }
    match postcard::take_from_bytes(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(corrupt(format!("{} trailing bytes", rest.len()))),
        Err(e) => Err(corrupt(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_in_version_order_and_escape_slashes() {
        let a = Version { ts: 9, tx: TxId(3) };
        let b = Version {
            ts: 10,
            tx: TxId(1),
        };
        assert!(record_key(a) < record_key(b));
        assert!(version_key("a/b", a).starts_with("data/a%2Fb/"));
        assert_ne!(version_key("a/b", a), version_key("a%2Fb", a));
    }

    #[test]
    fn damage_is_detected() {
        let rec = CommitRecord {
            version: Version { ts: 1, tx: TxId(2) },
            writes: vec!["k".into()],
        };
        let mut bytes = encode(&rec);
        assert_eq!(decode::<CommitRecord>("r", &bytes).unwrap(), rec);
        bytes[1] ^= 0xff;
        assert!(matches!(
            decode::<CommitRecord>("r", &bytes),
            Err(StorageError::Corrupt { .. })
        ));
        assert!(decode::<CommitRecord>("r", &[1, 2]).is_err());
    }
}
