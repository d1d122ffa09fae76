//! Property tests of the request decoder: arbitrary and truncated bytes never
//! panic, and well-formed requests (encoded by the independent
//! `redis-protocol` crate) decode to the same arguments however the bytes are
//! split across reads.

use bytes::{Bytes, BytesMut};
use ferrocks::protocol::{Limits, RequestDecoder};
use proptest::prelude::*;
use redis_protocol::resp2::encode::extend_encode;
use redis_protocol::resp2::types::BytesFrame;

fn encode_request(args: &[Vec<u8>]) -> BytesMut {
    let frame = BytesFrame::Array(
        args.iter()
            .map(|a| BytesFrame::BulkString(Bytes::copy_from_slice(a)))
            .collect(),
    );
    let mut buf = BytesMut::new();
    extend_encode(&mut buf, &frame, false).expect("encoding a valid frame");
    buf
}

/// Feeds `input` in pieces of the given sizes and collects every request.
fn decode_in_pieces(
    input: &[u8],
    cuts: &[usize],
    limits: &Limits,
) -> Result<Vec<Vec<Bytes>>, String> {
    let mut dec = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut cut_iter = cuts.iter().cycle();
    while pos < input.len() {
        let step = (*cut_iter.next().unwrap_or(&1)).max(1);
        let end = (pos + step).min(input.len());
        buf.extend_from_slice(&input[pos..end]);
        pos = end;
        loop {
            match dec.decode(&mut buf, limits) {
                Ok(Some(req)) => out.push(req),
                Ok(None) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512),
                                   cuts in proptest::collection::vec(1usize..64, 1..8)) {
        for authenticated in [true, false] {
            let limits = Limits { max_bulk_len: 1024, authenticated };
            let _ = decode_in_pieces(&data, &cuts, &limits);
        }
    }

    #[test]
    fn resp_like_garbage_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()),
            Just(b"-1".to_vec()), Just(b"99999999999999999999".to_vec()),
            Just(b"3".to_vec()), Just(b"\"".to_vec()), Just(b"'".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ], 0..40)) {
        let data: Vec<u8> = parts.concat();
        let _ = decode_in_pieces(&data, &[1, 3, 7], &Limits::default());
    }

    #[test]
    fn encoded_requests_round_trip(reqs in proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6), 1..5),
            cuts in proptest::collection::vec(1usize..32, 1..6)) {
        let mut wire = BytesMut::new();
        for r in &reqs {
            wire.extend_from_slice(&encode_request(r));
        }
        let got = decode_in_pieces(&wire, &cuts, &Limits::default()).expect("valid input decodes");
        let want: Vec<Vec<Bytes>> = reqs
            .iter()
            .map(|r| r.iter().map(|a| Bytes::copy_from_slice(a)).collect())
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn truncated_requests_wait_for_more(args in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..40), 1..6), cut in 0usize..200) {
        let wire = encode_request(&args);
        let cut = cut.min(wire.len().saturating_sub(1));
        let mut dec = RequestDecoder::new();
        let mut buf = BytesMut::from(&wire[..cut]);
        // An incomplete but valid prefix is never an error and never a request.
        prop_assert_eq!(dec.decode(&mut buf, &Limits::default()), Ok(None));
    }
}

#[test]
fn oversized_bulk_is_rejected_before_its_body_arrives() {
    let mut dec = RequestDecoder::new();
    let mut buf = BytesMut::from(&b"*1\r\n$2000\r\n"[..]);
    let err = dec
        .decode(
            &mut buf,
            &Limits {
                max_bulk_len: 1000,
                authenticated: true,
            },
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "Protocol error: invalid bulk length");
}
