//! The value layout of the `metadata` column family:
//! `[type|flags: u8][expire ms: u64 BE]` then, for strings, the value itself,
//! and for composite types `[version: u64][size: u64]`.

/// The data type stored under a key (low 4 bits of the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DataType {
    /// A string value, stored inline.
    String = 1,
    /// A hash (fields in the subkey CF).
    Hash = 2,
    /// A list.
    List = 3,
    /// A set.
    Set = 4,
    /// A sorted set.
    ZSet = 5,
}

impl DataType {
    /// Decodes the type from the first metadata byte.
    pub fn from_flags(flags: u8) -> Option<DataType> {
        Some(match flags & 0x0F {
            1 => DataType::String,
            2 => DataType::Hash,
            3 => DataType::List,
            4 => DataType::Set,
            5 => DataType::ZSet,
            _ => return None,
        })
    }

    /// The name `TYPE` replies with.
    pub fn name(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Hash => "hash",
            DataType::List => "list",
            DataType::Set => "set",
            DataType::ZSet => "zset",
        }
    }
}

/// Size of the common header: type byte and expire time.
pub const HEADER_LEN: usize = 9;

/// The common header of every metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// What kind of value this is.
    pub dtype: DataType,
    /// Absolute expire time in Unix milliseconds; 0 means none.
    pub expire_ms: u64,
}

impl Header {
    /// Decodes the header at the start of a metadata value.
    pub fn decode(raw: &[u8]) -> Option<Header> {
        if raw.len() < HEADER_LEN {
            return None;
        }
        let dtype = DataType::from_flags(raw[0])?;
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&raw[1..9]);
        Some(Header {
            dtype,
            expire_ms: u64::from_be_bytes(exp),
        })
    }

    /// True when the key has an expire time at or before `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_ms != 0 && self.expire_ms <= now_ms
    }
}

/// Encodes a string value with its expire time.
pub fn encode_string(expire_ms: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + value.len());
    out.push(DataType::String as u8);
    out.extend_from_slice(&expire_ms.to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// Rewrites the expire field of an encoded metadata value in place.
pub fn set_expire(raw: &mut [u8], expire_ms: u64) {
    if raw.len() >= HEADER_LEN {
        raw[1..9].copy_from_slice(&expire_ms.to_be_bytes());
    }
}

/// The inline value of a string metadata record.
pub fn string_value(raw: &[u8]) -> &[u8] {
    raw.get(HEADER_LEN..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_layout() {
        let mut raw = encode_string(0, b"hello");
        let h = Header::decode(&raw).unwrap();
        assert_eq!(h.dtype, DataType::String);
        assert!(!h.is_expired(1));
        set_expire(&mut raw, 10);
        assert!(Header::decode(&raw).unwrap().is_expired(10));
        assert_eq!(string_value(&raw), b"hello");
    }
}
