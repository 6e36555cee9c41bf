//! Lossless `String` names for directory entries whose bytes are not UTF-8 (issue 9, item 11).
//!
//! The [`Storage`](super::Storage) trait names entries with `String`s, but Linux allows any
//! bytes except `/` and NUL, and etcd (Go strings are bytes) treats a name such as
//! `tmp\xff` like any other: `tmp*` leftovers are removed, `*.snap.broken` files counted.
//! A lossy conversion (U+FFFD) would make such a name impossible to remove or rename.
//!
//! The mapping (the idea of PEP 383's "surrogateescape", with private-use code points because
//! a Rust `String` cannot hold surrogates): every byte `b` of an invalid UTF-8 sequence
//! becomes `U+F700 + b` (`U+F780..=U+F7FF`; such bytes are always `>= 0x80`). A valid
//! character that itself lies in `U+F780..=U+F7FF` is escaped the same way, byte by byte, so
//! the mapping is injective. Every other valid name, i.e. every name anyone uses, is its own
//! encoding. Backends that list raw bytes ([`NativeStorage`](super::NativeStorage), the
//! Node backend) [`encode`] when listing and [`decode`] when given a name back. Prefix and
//! suffix tests work on the encoded form (`tmp\xff` encodes as `tmp\u{f7ff}`).
//!
//! For people, [`display`] shows a name as a lossy conversion of its bytes would (U+FFFD for
//! invalid sequences), which is what `ls` printed before and what Node prints.

use std::borrow::Cow;

/// First code point of the escape block; byte `b` maps to `ESCAPE_BASE + b`.
const ESCAPE_BASE: u32 = 0xF700;

fn is_escape(c: char) -> bool {
    (0xF780..=0xF7FF).contains(&u32::from(c))
}

fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        // 0x80..=0xFF + 0xF700 lies in the private-use area: always a valid char.
        out.extend(char::from_u32(ESCAPE_BASE + u32::from(b)));
    }
}

/// The `String` name of raw entry-name bytes (itself for UTF-8 without escape-block chars).
pub fn encode(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if is_escape(c) {
                let mut b = [0u8; 4];
                push_escaped(&mut out, c.encode_utf8(&mut b).as_bytes());
            } else {
                out.push(c);
            }
        }
        push_escaped(&mut out, chunk.invalid());
    }
    out
}

/// The raw bytes behind a name produced by [`encode`] (borrowed when nothing is escaped).
pub fn decode(name: &str) -> Cow<'_, [u8]> {
    if !name.chars().any(is_escape) {
        return Cow::Borrowed(name.as_bytes());
    }
    let mut out = Vec::with_capacity(name.len());
    for c in name.chars() {
        if is_escape(c) {
            out.push((u32::from(c) - ESCAPE_BASE) as u8);
        } else {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
    }
    Cow::Owned(out)
}

/// How a name is shown to people: its bytes, lossily (U+FFFD for invalid sequences).
pub fn display(name: &str) -> Cow<'_, str> {
    match decode(name) {
        Cow::Borrowed(_) => Cow::Borrowed(name),
        Cow::Owned(raw) => Cow::Owned(String::from_utf8_lossy(&raw).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_plain_names() {
        let cases: [&[u8]; 7] = [
            b"0000000000000001-0000000000000002.snap",
            b"tmp\xff",
            b"db.tmp\xc3",
            b"\xff\xfe.snap.broken",
            "caf\u{e9}".as_bytes(),
            "\u{f7ff}x".as_bytes(),
            b"a\xef\x9e",
        ];
        for raw in cases {
            let name = encode(raw);
            assert_eq!(&*decode(&name), raw, "{name:?}");
            if let Ok(s) = std::str::from_utf8(raw)
                && !s.chars().any(is_escape)
            {
                assert_eq!(name, s);
            }
        }
        assert!(encode(b"tmp\xff").starts_with("tmp"));
        assert!(encode(b"\xff.snap.broken").ends_with(".snap.broken"));
        assert_ne!(encode("\u{f7ff}".as_bytes()), "\u{f7ff}");
        assert_eq!(display(&encode(b"tmp\xff")), "tmp\u{fffd}");
    }
}
