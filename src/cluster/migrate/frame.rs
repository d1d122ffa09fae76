//! The migration wire frame: a fixed header followed by the payload (the
//! serialized bytes of a RocksDB `WriteBatch`, LZ4-compressed when that is
//! smaller). The CRC32 covers the payload as sent, so a flipped byte is
//! caught before anything is decompressed or applied.
//!
//! Header (big-endian, 40 bytes): magic `FRKM`, format version, phase, codec,
//! stream (u8: which of a job's parallel streams), job id (u64), first slot (u16), last slot (u16), chunk sequence
//! (u64), raw length (u32), wire length (u32), CRC32 of the wire bytes (u32).

use thiserror::Error;

/// First bytes of every frame.
pub const MAGIC: [u8; 4] = *b"FRKM";
/// Current frame format.
pub const FORMAT_VERSION: u8 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 40;

/// Which part of a job a chunk belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Records read from the snapshot.
    Snapshot = 0,
    /// Records cut from the WAL after the snapshot.
    Incremental = 1,
    /// The last delta, sent while writes to the slots are paused.
    Final = 2,
}

/// How the payload is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Codec {
    /// Raw `WriteBatch` bytes.
    None = 0,
    /// LZ4 block of the raw bytes.
    Lz4 = 1,
}

/// Why a frame was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FrameError {
    /// Not a ferrocks migration frame.
    #[error("bad magic: not a ferrocks migration frame")]
    BadMagic,
    /// A format this node does not speak.
    #[error("unsupported frame format version {0}")]
    UnsupportedVersion(u8),
    /// Unknown phase byte.
    #[error("unknown phase {0}")]
    BadPhase(u8),
    /// Unknown codec byte.
    #[error("unknown codec {0}")]
    BadCodec(u8),
    /// Slot range reversed or out of range.
    #[error("invalid slot range {0}-{1}")]
    BadSlots(u16, u16),
    /// Lengths above the receiver's limit (memory stays bounded).
    #[error("frame of {0} bytes exceeds the limit of {1} bytes")]
    TooLarge(usize, usize),
    /// The payload does not match its checksum.
    #[error("checksum mismatch: header says {expected:08x}, payload has {actual:08x}")]
    ChecksumMismatch {
        /// CRC from the header.
        expected: u32,
        /// CRC of the bytes received.
        actual: u32,
    },
    /// The payload does not decompress to the announced length.
    #[error("payload does not decompress to {0} bytes")]
    BadPayload(usize),
}

/// The decoded header of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Phase of the job this chunk belongs to.
    pub phase: Phase,
    /// Payload encoding.
    pub codec: Codec,
    /// Which of the job's parallel streams sent it (0 for the only one).
    pub stream: u8,
    /// The job the chunk belongs to.
    pub job_id: u64,
    /// First slot of the job's range.
    pub first_slot: u16,
    /// Last slot of the job's range (inclusive).
    pub last_slot: u16,
    /// Chunk sequence number within the job, from 1.
    pub sequence: u64,
    /// Length of the raw `WriteBatch` bytes.
    pub raw_len: u32,
    /// Length of the payload on the wire.
    pub wire_len: u32,
    /// CRC32 of the payload on the wire.
    pub crc: u32,
}

/// What identifies a chunk, apart from its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ChunkId {
    /// The job.
    pub job_id: u64,
    /// First slot of the job.
    pub first_slot: u16,
    /// Last slot of the job.
    pub last_slot: u16,
    /// Sequence within the job.
    pub sequence: u64,
    /// Phase.
    pub phase: Phase,
    /// Which of the job's parallel streams sends it.
    pub stream: u8,
}

/// Encodes `raw` (serialized `WriteBatch` bytes) into `out` as one frame,
/// compressing with LZ4 when `compress` and it makes the payload smaller.
/// `out` is cleared first so callers can reuse one buffer.
pub fn encode(id: ChunkId, raw: &[u8], compress: bool, out: &mut Vec<u8>) {
    let mut compressed = Vec::new();
    let header = encode_parts(id, raw, compress, &mut compressed);
    out.clear();
    out.extend_from_slice(&header);
    if header[6] == Codec::Lz4 as u8 {
        out.extend_from_slice(&compressed);
    } else {
        out.extend_from_slice(raw);
    }
}

/// Encodes a frame without copying `raw`: returns its header; the payload
/// is `raw` itself, or the LZ4 block left in `compressed` (a buffer the
/// caller reuses) when `compress` and that is smaller — see
/// [`payload_codec`].
pub fn encode_parts(
    id: ChunkId,
    raw: &[u8],
    compress: bool,
    compressed: &mut Vec<u8>,
) -> [u8; HEADER_LEN] {
    compressed.clear();
    let mut codec = Codec::None;
    if compress {
        let bound = lz4_flex::block::get_maximum_output_size(raw.len());
        compressed.resize(bound, 0);
        match lz4_flex::block::compress_into(raw, compressed) {
            Ok(n) if n < raw.len() => {
                compressed.truncate(n);
                codec = Codec::Lz4;
            }
            _ => compressed.clear(),
        }
    }
    let payload: &[u8] = match codec {
        Codec::Lz4 => compressed,
        Codec::None => raw,
    };
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC);
    h[4] = FORMAT_VERSION;
    h[5] = id.phase as u8;
    h[6] = codec as u8;
    h[7] = id.stream;
    h[8..16].copy_from_slice(&id.job_id.to_be_bytes());
    h[16..18].copy_from_slice(&id.first_slot.to_be_bytes());
    h[18..20].copy_from_slice(&id.last_slot.to_be_bytes());
    h[20..28].copy_from_slice(&id.sequence.to_be_bytes());
    h[28..32].copy_from_slice(&(raw.len() as u32).to_be_bytes());
    h[32..36].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    h[36..40].copy_from_slice(&crc32fast::hash(payload).to_be_bytes());
    h
}

/// True when a header from [`encode_parts`] says its payload is the LZ4
/// block rather than the raw bytes.
pub fn payload_codec(header: &[u8; HEADER_LEN]) -> Codec {
    if header[6] == Codec::Lz4 as u8 {
        Codec::Lz4
    } else {
        Codec::None
    }
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Decodes and checks a header; `max_len` bounds both lengths so a hostile
/// or corrupt header cannot make the receiver allocate without limit.
pub fn decode_header(bytes: &[u8; HEADER_LEN], max_len: usize) -> Result<FrameHeader, FrameError> {
    if bytes[0..4] != MAGIC {
        return Err(FrameError::BadMagic);
    }
    if bytes[4] != FORMAT_VERSION {
        return Err(FrameError::UnsupportedVersion(bytes[4]));
    }
    let phase = match bytes[5] {
        0 => Phase::Snapshot,
        1 => Phase::Incremental,
        2 => Phase::Final,
        p => return Err(FrameError::BadPhase(p)),
    };
    let codec = match bytes[6] {
        0 => Codec::None,
        1 => Codec::Lz4,
        c => return Err(FrameError::BadCodec(c)),
    };
    let header = FrameHeader {
        phase,
        codec,
        stream: bytes[7],
        job_id: be_u64(&bytes[8..16]),
        first_slot: be_u16(&bytes[16..18]),
        last_slot: be_u16(&bytes[18..20]),
        sequence: be_u64(&bytes[20..28]),
        raw_len: be_u32(&bytes[28..32]),
        wire_len: be_u32(&bytes[32..36]),
        crc: be_u32(&bytes[36..40]),
    };
    if header.first_slot > header.last_slot || header.last_slot >= crate::cluster::slot::SLOT_COUNT
    {
        return Err(FrameError::BadSlots(header.first_slot, header.last_slot));
    }
    let longest = header.raw_len.max(header.wire_len) as usize;
    if longest > max_len {
        return Err(FrameError::TooLarge(longest, max_len));
    }
    if codec == Codec::None && header.raw_len != header.wire_len {
        return Err(FrameError::BadPayload(header.raw_len as usize));
    }
    Ok(header)
}

/// Checks the payload's CRC and returns the raw `WriteBatch` bytes,
/// decompressing into `scratch` (reused between frames) when needed.
pub fn open_payload<'a>(
    header: &FrameHeader,
    wire: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Result<&'a [u8], FrameError> {
    if wire.len() != header.wire_len as usize {
        return Err(FrameError::BadPayload(header.raw_len as usize));
    }
    let actual = crc32fast::hash(wire);
    if actual != header.crc {
        return Err(FrameError::ChecksumMismatch {
            expected: header.crc,
            actual,
        });
    }
    match header.codec {
        Codec::None => Ok(wire),
        Codec::Lz4 => {
            // Only grown, never cleared: a reused buffer is not zeroed
            // again (decompression overwrites what it returns).
            let raw_len = header.raw_len as usize;
            if scratch.len() < raw_len {
                scratch.resize(raw_len, 0);
            }
            match lz4_flex::block::decompress_into(wire, &mut scratch[..raw_len]) {
                Ok(n) if n == raw_len => Ok(&scratch[..raw_len]),
                _ => Err(FrameError::BadPayload(header.raw_len as usize)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ChunkId {
        ChunkId {
            job_id: 7,
            first_slot: 10,
            last_slot: 20,
            sequence: 3,
            phase: Phase::Snapshot,
            stream: 0,
        }
    }

    fn round_trip(raw: &[u8], compress: bool) -> (FrameHeader, Vec<u8>) {
        let mut frame = Vec::new();
        encode(id(), raw, compress, &mut frame);
        let mut hb = [0u8; HEADER_LEN];
        hb.copy_from_slice(&frame[..HEADER_LEN]);
        let h = decode_header(&hb, 1 << 20).unwrap();
        let mut scratch = Vec::new();
        let out = open_payload(&h, &frame[HEADER_LEN..], &mut scratch)
            .unwrap()
            .to_vec();
        (h, out)
    }

    #[test]
    fn compressible_payload_uses_lz4() {
        let raw = vec![b'a'; 10_000];
        let (h, out) = round_trip(&raw, true);
        assert_eq!(h.codec, Codec::Lz4);
        assert!(h.wire_len < h.raw_len);
        assert_eq!(out, raw);
        assert_eq!(
            (h.job_id, h.sequence, h.first_slot, h.last_slot),
            (7, 3, 10, 20)
        );
    }

    #[test]
    fn incompressible_payload_is_sent_raw() {
        // xorshift bytes: no repeats for LZ4 to find.
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let raw: Vec<u8> = (0..512)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let (h, out) = round_trip(&raw, true);
        assert_eq!(h.codec, Codec::None);
        assert_eq!(out, raw);
    }

    #[test]
    fn flipped_byte_is_caught_by_crc() {
        let mut frame = Vec::new();
        encode(id(), &vec![b'x'; 4096], true, &mut frame);
        let last = frame.len() - 1;
        frame[last] ^= 0x40;
        let mut hb = [0u8; HEADER_LEN];
        hb.copy_from_slice(&frame[..HEADER_LEN]);
        let h = decode_header(&hb, 1 << 20).unwrap();
        let mut scratch = Vec::new();
        assert!(matches!(
            open_payload(&h, &frame[HEADER_LEN..], &mut scratch),
            Err(FrameError::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn foreign_and_oversized_headers_are_refused() {
        let mut frame = Vec::new();
        encode(id(), &[1, 2, 3], false, &mut frame);
        let mut hb = [0u8; HEADER_LEN];
        hb.copy_from_slice(&frame[..HEADER_LEN]);
        assert!(decode_header(&hb, 2).is_err());
        hb[0] = b'X';
        assert_eq!(decode_header(&hb, 1 << 20), Err(FrameError::BadMagic));
    }
}
