//! DUMP / RESTORE payloads: ferrocks's own format,
//! `[format version: u8][type: u8][body][CRC32 of everything before: u32 LE]`.
//! Each data type encodes its own body; a payload from another format or a
//! damaged one is rejected.

use super::{Db, TypeError, TypeResult};
use crate::storage::metadata::{self, DataType};
use crate::storage::Cf;

/// Current payload format version.
pub const DUMP_VERSION: u8 = 1;

/// Why a payload was refused or could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Bad version, bad checksum or truncated.
    #[error("ERR DUMP payload version or checksum are wrong")]
    BadPayload,
    /// The key exists and REPLACE was not given.
    #[error("BUSYKEY Target key name already exists.")]
    BusyKey,
    /// A storage failure.
    #[error("{0}")]
    Type(#[from] TypeError),
}

fn seal(mut out: Vec<u8>) -> Vec<u8> {
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a payload and returns (type, body).
pub fn open(payload: &[u8]) -> Result<(DataType, &[u8]), RestoreError> {
    if payload.len() < 6 {
        return Err(RestoreError::BadPayload);
    }
    let (data, crc) = payload.split_at(payload.len() - 4);
    let mut crc_bytes = [0u8; 4];
    crc_bytes.copy_from_slice(crc);
    if crc32fast::hash(data) != u32::from_le_bytes(crc_bytes) || data[0] != DUMP_VERSION {
        return Err(RestoreError::BadPayload);
    }
    let dtype = DataType::from_flags(data[1]).ok_or(RestoreError::BadPayload)?;
    Ok((dtype, &data[2..]))
}

impl Db<'_> {
    /// DUMP: the payload and the absolute expire time (0 = none), or `None`.
    pub fn dump(&self, key: &[u8]) -> TypeResult<Option<(Vec<u8>, u64)>> {
        let Some(meta) = self.read_meta(key)? else {
            return Ok(None);
        };
        let mut out = vec![DUMP_VERSION, meta.header.dtype as u8];
        match meta.header.dtype {
            DataType::String => out.extend_from_slice(metadata::string_value(&meta.raw)),
            // Composite types arrive with the data-types issue.
            _ => return Err(TypeError::WrongType),
        }
        Ok(Some((seal(out), meta.header.expire_ms)))
    }

    /// RESTORE: writes the payload under `key` with `expire_ms` (0 = none).
    pub fn restore(
        &self,
        key: &[u8],
        payload: &[u8],
        expire_ms: u64,
        replace: bool,
    ) -> Result<(), RestoreError> {
        let (dtype, body) = open(payload)?;
        let _guard = self.storage.locks().lock(&[key]);
        if !replace && self.read_meta(key)?.is_some() {
            return Err(RestoreError::BusyKey);
        }
        match dtype {
            DataType::String => self
                .storage
                .put(
                    Cf::Metadata,
                    &self.meta_key(key),
                    &metadata::encode_string(expire_ms, body),
                )
                .map_err(TypeError::from)?,
            _ => return Err(RestoreError::BadPayload),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_payloads_are_refused() {
        let p = seal(vec![DUMP_VERSION, DataType::String as u8, b'x']);
        assert!(open(&p).is_ok());
        let mut bad = p.clone();
        bad[2] ^= 1;
        assert!(open(&bad).is_err());
        assert!(open(&p[..3]).is_err());
        let mut other = p.clone();
        other[0] = 9;
        assert!(open(&other).is_err());
    }
}
