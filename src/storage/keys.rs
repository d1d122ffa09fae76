//! The key encoding shared by every column family:
//! `[namespace length: u8][namespace][slot: u16 BE][user key]`.
//!
//! The slot is present in every mode, so one slot of one namespace is one
//! contiguous key range: migration reads a range and cleanup deletes one.

use crate::cluster::slot::key_slot;

/// Length of the prefix for namespace `ns` (without the slot).
pub fn ns_prefix_len(ns: &[u8]) -> usize {
    1 + ns.len()
}

/// `[len][ns]`: the start of every key of a namespace.
pub fn ns_prefix(ns: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + ns.len());
    out.push(ns.len() as u8);
    out.extend_from_slice(ns);
    out
}

/// The first key past every key of namespace `ns`.
pub fn ns_upper_bound(ns: &[u8]) -> Vec<u8> {
    let mut out = ns_prefix(ns);
    out.push(0xFF);
    out
}

/// Encodes a metadata key (namespace, slot, user key).
pub fn encode(ns: &[u8], user_key: &[u8]) -> Vec<u8> {
    encode_in_slot(ns, key_slot(user_key), user_key)
}

/// Encodes a key whose slot is already known.
pub fn encode_in_slot(ns: &[u8], slot: u16, user_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + ns.len() + user_key.len());
    out.push(ns.len() as u8);
    out.extend_from_slice(ns);
    out.extend_from_slice(&slot.to_be_bytes());
    out.extend_from_slice(user_key);
    out
}

/// `[len][ns][slot]`: the start of one slot of a namespace.
pub fn slot_prefix(ns: &[u8], slot: u16) -> Vec<u8> {
    encode_in_slot(ns, slot, b"")
}

/// Splits an encoded key back into (namespace, slot, user key).
pub fn decode(encoded: &[u8]) -> Option<(&[u8], u16, &[u8])> {
    let ns_len = *encoded.first()? as usize;
    let ns = encoded.get(1..1 + ns_len)?;
    let slot = encoded.get(1 + ns_len..3 + ns_len)?;
    let user = encoded.get(3 + ns_len..)?;
    Some((ns, u16::from_be_bytes([slot[0], slot[1]]), user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let k = encode(b"ns", b"foo");
        assert_eq!(decode(&k), Some((&b"ns"[..], 12182, &b"foo"[..])));
        assert!(k.starts_with(&ns_prefix(b"ns")));
        assert!(k.as_slice() < ns_upper_bound(b"ns").as_slice());
    }
}
