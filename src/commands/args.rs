//! Helpers to turn raw arguments into typed values, with Redis's errors.

use bytes::Bytes;

use super::error::CmdError;
use crate::util::numbers::{parse_f64, parse_i64};

/// Parses an integer argument.
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// Parses a float argument.
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    parse_f64(arg).ok_or(CmdError::NotFloat)
}

/// The argument as lower-case text (for keywords).
pub fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// True when the argument equals `word`, ignoring ASCII case.
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The argument as (lossy) UTF-8 text.
pub fn text(arg: &Bytes) -> String {
    String::from_utf8_lossy(arg).into_owned()
}
