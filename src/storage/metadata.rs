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
    /// A sorted set (members in the subkey CF, scores in the score CF).
    ZSet = 5,
    /// A bitmap stored in fixed-size fragments (subkey CF).
    Bitmap = 6,
    /// A HyperLogLog stored in register fragments (subkey CF).
    Hll = 7,
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
            6 => DataType::Bitmap,
            7 => DataType::Hll,
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
            // Redis users (and their tools) know bitmaps and HyperLogLogs
            // as strings.
            DataType::Bitmap | DataType::Hll => "string",
        }
    }

    /// True for types whose data lives in subkeys (everything but strings).
    pub fn is_composite(self) -> bool {
        self != DataType::String
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

/// Length of a composite metadata value without its type-specific tail:
/// header, version and size.
pub const COMPOSITE_LEN: usize = HEADER_LEN + 16;

/// The metadata of a composite key: `[type][expire][version][size][extra]`.
/// `extra` holds what one type needs (a list's head and tail indexes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composite {
    /// The key's type.
    pub dtype: DataType,
    /// Absolute expire time in Unix ms; 0 means none.
    pub expire_ms: u64,
    /// The version its subkeys carry; a re-created key gets a new one.
    pub version: u64,
    /// Number of fields / members / items (bitmaps: bytes; HLL: 0).
    pub size: u64,
    /// Type-specific tail.
    pub extra: Vec<u8>,
}

impl Composite {
    /// Fresh, empty metadata of `dtype` with `version`.
    pub fn new(dtype: DataType, version: u64) -> Composite {
        Composite {
            dtype,
            expire_ms: 0,
            version,
            size: 0,
            extra: Vec::new(),
        }
    }

    /// Decodes a composite metadata value; `None` for strings or damage.
    pub fn decode(raw: &[u8]) -> Option<Composite> {
        let header = Header::decode(raw)?;
        if !header.dtype.is_composite() || raw.len() < COMPOSITE_LEN {
            return None;
        }
        Some(Composite {
            dtype: header.dtype,
            expire_ms: header.expire_ms,
            version: read_u64(&raw[9..17]),
            size: read_u64(&raw[17..25]),
            extra: raw[COMPOSITE_LEN..].to_vec(),
        })
    }

    /// Encodes the metadata value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(COMPOSITE_LEN + self.extra.len());
        out.push(self.dtype as u8);
        out.extend_from_slice(&self.expire_ms.to_be_bytes());
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.extra);
        out
    }
}

/// The version of a composite metadata value, if it is one.
pub fn composite_version(raw: &[u8]) -> Option<u64> {
    let header = Header::decode(raw)?;
    (header.dtype.is_composite() && raw.len() >= COMPOSITE_LEN).then(|| read_u64(&raw[9..17]))
}

/// Reads a big-endian u64 from exactly 8 bytes.
pub fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
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

    #[test]
    fn composite_layout() {
        let mut m = Composite::new(DataType::List, 42);
        m.size = 3;
        m.extra = vec![1, 2];
        let raw = m.encode();
        assert_eq!(Composite::decode(&raw), Some(m));
        assert_eq!(composite_version(&raw), Some(42));
        assert_eq!(composite_version(&encode_string(0, b"x")), None);
    }
}
