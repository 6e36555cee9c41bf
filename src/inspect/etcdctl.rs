//! Output in etcdctl's shapes, shared by the native CLI and the npm CLI: `snapshot status`
//! (`-w json` and `-w table`) and `get` (`-w json`, plus a table for people). Keys and values
//! are hostile input: JSON carries them base64-encoded as etcdctl does, tables show them
//! escaped so no byte can move the cursor or inject terminal sequences.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use super::mvcc::{RangeQuery, RangeResult};
use super::mvccpb::KeyValue;
use super::status::{Status, table_row};

/// The query `etcd-snap keys [--prefix P] [--from K] [--rev R] [--limit N]` runs (shared by
/// the native and npm CLIs so both select the same keys): keys with prefix `P` (all if
/// empty), starting at `K` if that is later, live at `R` (0 = current), at most `N` (0 = all).
pub fn keys_query(prefix: &[u8], from: Option<&[u8]>, rev: i64, limit: usize) -> RangeQuery {
    let mut q = RangeQuery {
        rev,
        limit,
        ..RangeQuery::prefix(prefix)
    };
    if let Some(from) = from {
        q.start = q.start.max(from.to_vec());
    }
    q
}

/// `etcdctl snapshot status -w json`.
pub fn status_json(s: &Status) -> String {
    serde_json::to_string(s).expect("plain struct")
}

/// `etcdctl snapshot status -w table` (olekukonko/tablewriter with right-aligned cells).
pub fn status_table(s: &Status) -> String {
    let header = ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"].map(String::from);
    table(&header, &[table_row(s).to_vec()], true)
}

#[derive(Serialize)]
struct Header {
    revision: i64,
}

/// `mvccpb.KeyValue` as etcdctl's JSON prints it (`omitempty` everywhere, bytes base64).
#[derive(Serialize)]
struct JsonKv {
    #[serde(skip_serializing_if = "String::is_empty")]
    key: String,
    #[serde(skip_serializing_if = "is_zero")]
    create_revision: i64,
    #[serde(skip_serializing_if = "is_zero")]
    mod_revision: i64,
    #[serde(skip_serializing_if = "is_zero")]
    version: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(skip_serializing_if = "is_zero")]
    lease: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct JsonRange {
    header: Header,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kvs: Vec<JsonKv>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    more: bool,
    #[serde(skip_serializing_if = "is_zero")]
    count: i64,
}

fn json_kv(kv: &KeyValue) -> JsonKv {
    JsonKv {
        key: B64.encode(&kv.key),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        value: B64.encode(&kv.value),
        lease: kv.lease,
    }
}

/// `etcdctl get -w json` (the header carries only the revision: a db does not record the
/// cluster id, the member answering or the raft term of a live server).
pub fn range_json(r: &RangeResult) -> String {
    let out = JsonRange {
        header: Header {
            revision: r.header_revision,
        },
        kvs: r.kvs.iter().map(json_kv).collect(),
        more: r.more,
        count: i64::try_from(r.count).unwrap_or(i64::MAX),
    };
    serde_json::to_string(&out).expect("plain struct")
}

/// Longest value shown in a table cell, in characters.
pub const TABLE_VALUE_CHARS: usize = 60;

/// A table of the keys: key, revisions, version, lease (hex), value (escaped, cut).
pub fn range_table(r: &RangeResult) -> String {
    let header = ["KEY", "CREATE_REV", "MOD_REV", "VERSION", "LEASE", "VALUE"].map(String::from);
    let rows: Vec<Vec<String>> = r
        .kvs
        .iter()
        .map(|kv| {
            vec![
                escape(&kv.key, usize::MAX),
                kv.create_revision.to_string(),
                kv.mod_revision.to_string(),
                kv.version.to_string(),
                if kv.lease == 0 {
                    String::new()
                } else {
                    format!("{:x}", kv.lease)
                },
                escape(&kv.value, TABLE_VALUE_CHARS),
            ]
        })
        .collect();
    let mut out = table(&header, &rows, false);
    out.push_str(&format!(
        "{} of {} keys at revision {}{}\n",
        r.kvs.len(),
        r.count,
        r.header_revision,
        if r.more { " (more)" } else { "" }
    ));
    out
}

/// Printable text for arbitrary bytes: UTF-8 kept except control and format characters,
/// which become `\n`, `\x1b`, `\u{202e}`...; invalid UTF-8 bytes become `\xNN`. At most
/// `max` characters of the source, then `...`.
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0usize;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown >= max {
                out.push_str("...");
                return out;
            }
            shown += 1;
            if c.is_control() || is_format(c) || c == '\\' {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            if shown >= max {
                out.push_str("...");
                return out;
            }
            shown += 1;
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Unicode format characters that reorder or hide text (bidi overrides, zero-width marks).
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{ad}')
}

/// A bordered table like olekukonko/tablewriter's default: centered header, cells padded by
/// one space, aligned right (`right`) or left.
fn table(header: &[String], rows: &[Vec<String>], right: bool) -> String {
    let width = |s: &str| s.chars().count();
    let mut w: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(width(c));
        }
    }
    let line: String = {
        let mut l = String::from("+");
        for n in &w {
            l.push_str(&"-".repeat(n + 2));
            l.push('+');
        }
        l.push('\n');
        l
    };
    let mut out = line.clone();
    out.push('|');
    for (h, n) in header.iter().zip(&w) {
        let pad = n - width(h);
        let left = pad / 2;
        out.push_str(&format!(
            " {}{}{} |",
            " ".repeat(left),
            h,
            " ".repeat(pad - left)
        ));
    }
    out.push('\n');
    out.push_str(&line);
    for r in rows {
        out.push('|');
        for (c, n) in r.iter().zip(&w) {
            let pad = " ".repeat(n - width(c));
            if right {
                out.push_str(&format!(" {pad}{c} |"));
            } else {
                out.push_str(&format!(" {c}{pad} |"));
            }
        }
        out.push('\n');
    }
    out.push_str(&line);
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_hostile_bytes() {
        assert_eq!(escape(b"a\x1b[2Jb", 100), "a\\u{1b}[2Jb");
        assert_eq!(escape(b"\xff\xfe/x", 100), "\\xff\\xfe/x");
        assert_eq!(escape("\u{202e}abc".as_bytes(), 100), "\\u{202e}abc");
        assert_eq!(escape(b"abcdef", 3), "abc...");
        assert_eq!(escape("é/k".as_bytes(), 100), "é/k");
    }
}
