//! Go's `%q` (`strconv.Quote`), for the messages and lines etcd prints with it: etcd 3.5's WAL
//! size-limit error names its file with `%q`, etcd-dump-logs quotes keys and values. A leaf:
//! it imports nothing of the crate, so the error type can use it.

use std::fmt::Write as _;

/// Go's `strconv.IsPrint` for a non-ASCII rune, approximated without Unicode tables: Go
/// rejects controls, format characters, non-ASCII spaces, private use, surrogates and
/// unassigned code points; the last set is not known here and is taken as printable.
fn is_print(c: char) -> bool {
    let u = c as u32;
    !(u <= 0xa0
        || u == 0xad
        || u == 0x1680
        || (0x2000..=0x200f).contains(&u)
        || (0x2028..=0x202f).contains(&u)
        || (0x205f..=0x206f).contains(&u)
        || u == 0x3000
        || (0xe000..=0xf8ff).contains(&u)
        || u == 0xfeff
        || (0xfff9..=0xfffb).contains(&u)
        || u == 0xfffe
        || u == 0xffff
        || u >= 0xf0000)
}

/// Go's `fmt.Sprintf("%q", s)` of a Go string holding arbitrary bytes (strconv.Quote):
/// invalid UTF-8 bytes as `\xNN`, `\a\b\f\n\r\t\v`, other controls as `\xNN`, non-printable
/// runes as `\uNNNN` / `\UNNNNNNNN`.
pub fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                ' '..='~' => out.push(c),
                c if (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if is_print(c) => out.push(c),
                c if (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_as_go_does() {
        // fmt.Sprintf("%q", ...) in Go 1.24 for each input.
        assert_eq!(
            quote(b"0000000000000000-0000000000000000.wal"),
            "\"0000000000000000-0000000000000000.wal\""
        );
        assert_eq!(
            quote(b"a\tb\x7f\xc2\xa0\xe2\x82\xac\xef\xbb\xbf"),
            "\"a\\tb\\x7f\\u00a0\u{20ac}\\ufeff\""
        );
    }
}
