//! Output in etcdctl's shapes, shared by the native CLI and the npm CLI: `snapshot status`
//! (`-w json` and `-w table`) and `get` (`-w json`, plus a table for people). Keys and values
//! are hostile input: JSON carries them base64-encoded as etcdctl does, tables show them
//! escaped so no byte can move the cursor or inject terminal sequences.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use super::Db;
use super::mvcc::RangeQuery;
use super::mvccpb::KeyValue;
use super::source::PageSource;
use super::status::{Status, table_row};
use super::stream::{self, RangeSink};
use crate::error::Result;

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

/// `etcdctl snapshot status -w table` (olekukonko/tablewriter with right-aligned cells);
/// etcd 3.6's `etcdutl` adds a `VERSION` column (etcdutl/etcdutl/printer.go:69 at v3.6.0).
pub fn status_table(s: &Status) -> String {
    let mut header: Vec<String> = ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"]
        .map(String::from)
        .to_vec();
    if s.version.is_some() {
        header.push("VERSION".into());
    }
    table(&header, &[table_row(s)], true)
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

/// Bytes of text gathered before each call of the writer.
pub const CHUNK_BYTES: usize = 64 << 10;

/// Text handed to a writer in pieces of about [`CHUNK_BYTES`].
struct Chunked<'a> {
    buf: String,
    write: &'a mut dyn FnMut(&str) -> Result<()>,
}

impl Chunked<'_> {
    fn push(&mut self, s: &str) -> Result<()> {
        self.buf.push_str(s);
        if self.buf.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            (self.write)(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// Writes the answer to `q` as `etcd-snap keys` prints it (`table` or etcdctl's `get -w
/// json`, one line), each key as it is found: memory stays bounded whatever the number of
/// keys (see [`super::stream`]). A table is two passes (column widths, then rows). Errors
/// in the db are found before anything is written.
pub fn write_keys<S: PageSource>(
    db: &Db<S>,
    q: &RangeQuery,
    table: bool,
    write: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<()> {
    let mut out = Chunked {
        buf: String::new(),
        write,
    };
    if table {
        let mut widths = TableWidths {
            w: KEY_HEADER.map(|h| h.chars().count()),
            shown: 0,
            revision: 0,
        };
        let tail = db.range_stream(q, stream::WINDOW_BYTES, &mut widths)?;
        let mut rows = TableRows {
            out: &mut out,
            w: widths.w,
        };
        rows.out.push(&rule(&rows.w))?;
        rows.out
            .push(&header_row(&KEY_HEADER.map(String::from), &rows.w))?;
        rows.out.push(&rule(&rows.w))?;
        db.range_stream(q, stream::WINDOW_BYTES, &mut rows)?;
        let w = rows.w;
        out.push(&rule(&w))?;
        out.push(&format!(
            "{} of {} keys at revision {}{}\n",
            widths.shown,
            tail.count,
            widths.revision,
            if tail.more { " (more)" } else { "" }
        ))?;
    } else {
        let mut json = JsonKeys {
            out: &mut out,
            any: false,
        };
        let tail = db.range_stream(q, stream::WINDOW_BYTES, &mut json)?;
        let any = json.any;
        if any {
            out.push("]")?;
        }
        if tail.more {
            out.push(",\"more\":true")?;
        }
        let count = i64::try_from(tail.count).unwrap_or(i64::MAX);
        if count != 0 {
            out.push(&format!(",\"count\":{count}"))?;
        }
        out.push("}\n")?;
    }
    out.flush()
}

/// The whole answer of [`write_keys`] as one string (for callers that want it whole).
pub fn keys_text<S: PageSource>(db: &Db<S>, q: &RangeQuery, table: bool) -> Result<String> {
    let mut text = String::new();
    write_keys(db, q, table, &mut |s| {
        text.push_str(s);
        Ok(())
    })?;
    Ok(text)
}

/// `etcdctl get -w json` streamed: the header carries only the revision (a db does not
/// record the cluster id, the member answering or the raft term of a live server); `kvs`,
/// `more` and `count` are omitted when empty, as gogo's JSON does.
struct JsonKeys<'a, 'b> {
    out: &'a mut Chunked<'b>,
    any: bool,
}

impl RangeSink for JsonKeys<'_, '_> {
    fn header(&mut self, revision: i64) -> Result<()> {
        let h = serde_json::to_string(&Header { revision }).expect("plain struct");
        self.out.push(&format!("{{\"header\":{h}"))
    }
    fn kv(&mut self, kv: KeyValue) -> Result<()> {
        self.out.push(if self.any { "," } else { ",\"kvs\":[" })?;
        self.any = true;
        self.out
            .push(&serde_json::to_string(&json_kv(&kv)).expect("plain struct"))
    }
}

const KEY_HEADER: [&str; 6] = ["KEY", "CREATE_REV", "MOD_REV", "VERSION", "LEASE", "VALUE"];

/// A table row of a key: key, revisions, version, lease (hex), value (escaped, cut).
fn key_row(kv: &KeyValue) -> [String; 6] {
    [
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
}

/// First table pass: column widths.
struct TableWidths {
    w: [usize; 6],
    shown: u64,
    revision: i64,
}

impl RangeSink for TableWidths {
    fn header(&mut self, revision: i64) -> Result<()> {
        self.revision = revision;
        Ok(())
    }
    fn kv(&mut self, kv: KeyValue) -> Result<()> {
        for (w, c) in self.w.iter_mut().zip(key_row(&kv)) {
            *w = (*w).max(c.chars().count());
        }
        self.shown += 1;
        Ok(())
    }
}

/// Second table pass: the rows.
struct TableRows<'a, 'b> {
    out: &'a mut Chunked<'b>,
    w: [usize; 6],
}

impl RangeSink for TableRows<'_, '_> {
    fn header(&mut self, _revision: i64) -> Result<()> {
        Ok(())
    }
    fn kv(&mut self, kv: KeyValue) -> Result<()> {
        // Widths only grow if the db changed between the passes; a wider cell still prints.
        self.out.push(&row(&key_row(&kv), &self.w, false))
    }
}

/// Longest value shown in a table cell, in characters.
pub const TABLE_VALUE_CHARS: usize = 60;

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
    let mut w: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(width(c));
        }
    }
    let mut out = rule(&w);
    out.push_str(&header_row(header, &w));
    out.push_str(&rule(&w));
    for r in rows {
        out.push_str(&row(r, &w, right));
    }
    out.push_str(&rule(&w));
    out
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// `+------+---+`.
fn rule(w: &[usize]) -> String {
    let mut l = String::from("+");
    for n in w {
        l.push_str(&"-".repeat(n + 2));
        l.push('+');
    }
    l.push('\n');
    l
}

/// The header line, each name centered.
fn header_row(header: &[String], w: &[usize]) -> String {
    let mut out = String::from("|");
    for (h, n) in header.iter().zip(w) {
        let pad = n.saturating_sub(width(h));
        let left = pad / 2;
        out.push_str(&format!(
            " {}{}{} |",
            " ".repeat(left),
            h,
            " ".repeat(pad - left)
        ));
    }
    out.push('\n');
    out
}

/// One row, cells padded to `w`.
fn row(cells: &[String], w: &[usize], right: bool) -> String {
    let mut out = String::from("|");
    for (c, n) in cells.iter().zip(w) {
        let pad = " ".repeat(n.saturating_sub(width(c)));
        if right {
            out.push_str(&format!(" {pad}{c} |"));
        } else {
            out.push_str(&format!(" {c}{pad} |"));
        }
    }
    out.push('\n');
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
