//! Glob-style pattern matching with Redis's rules (`*`, `?`, `[a-z]`,
//! `[^x]`, `\` escapes), used by KEYS, SCAN MATCH and CONFIG GET.

/// True when `text` matches `pattern`; `nocase` folds ASCII case.
pub fn matches(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    match_from(pattern, text, nocase, 0)
}

fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

fn match_from(mut p: &[u8], mut t: &[u8], nocase: bool, depth: u32) -> bool {
    // Bound recursion so hostile patterns like "a*a*a*a*...b" stay cheap.
    if depth > 1000 {
        return false;
    }
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                for start in 0..=t.len() {
                    if match_from(&p[1..], &t[start..], nocase, depth + 1) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                if t.is_empty() {
                    return false;
                }
                t = &t[1..];
                p = &p[1..];
            }
            b'[' => {
                let Some(&c) = t.first() else { return false };
                let (matched, rest) = match_class(&p[1..], c, nocase);
                if !matched {
                    return false;
                }
                p = rest;
                t = &t[1..];
            }
            b'\\' if p.len() >= 2 => {
                if t.first().is_none_or(|&c| !eq(c, p[1], nocase)) {
                    return false;
                }
                p = &p[2..];
                t = &t[1..];
            }
            _ => {
                if t.first().is_none_or(|&c| !eq(c, pc, nocase)) {
                    return false;
                }
                p = &p[1..];
                t = &t[1..];
            }
        }
    }
    t.is_empty()
}

/// Matches `c` against a class body (after `[`); returns the result and the
/// pattern after the closing `]`.
fn match_class(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let negate = p.first() == Some(&b'^');
    if negate {
        p = &p[1..];
    }
    let mut found = false;
    loop {
        match p {
            [] => break,
            [b']', rest @ ..] => {
                p = rest;
                break;
            }
            [b'\\', x, rest @ ..] => {
                found |= eq(*x, c, nocase);
                p = rest;
            }
            [a, b'-', b, rest @ ..] if *b != b']' => {
                let (lo, hi) = if a <= b { (*a, *b) } else { (*b, *a) };
                let cc = if nocase { c.to_ascii_lowercase() } else { c };
                let (lo2, hi2) = if nocase {
                    (lo.to_ascii_lowercase(), hi.to_ascii_lowercase())
                } else {
                    (lo, hi)
                };
                found |= cc >= lo2 && cc <= hi2 || (c >= lo && c <= hi);
                p = rest;
            }
            [x, rest @ ..] => {
                found |= eq(*x, c, nocase);
                p = rest;
            }
        }
    }
    (found != negate, p)
}

/// True when the pattern has no special characters, i.e. it names one key.
pub fn is_literal(pattern: &[u8]) -> bool {
    !pattern
        .iter()
        .any(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
}

/// The literal prefix of a pattern (before its first special character).
pub fn literal_prefix(pattern: &[u8]) -> &[u8] {
    let end = pattern
        .iter()
        .position(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
        .unwrap_or(pattern.len());
    &pattern[..end]
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn basics() {
        assert!(matches(b"*", b"anything", false));
        assert!(matches(b"h?llo", b"hello", false));
        assert!(matches(b"h[ae]llo", b"hallo", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h\\*llo", b"h*llo", false));
        assert!(matches(b"SLOW*", b"slowlog-max-len", true));
        assert!(!matches(b"a*b", b"aaac", false));
    }
}
