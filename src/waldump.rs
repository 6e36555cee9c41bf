//! `etcd-snap wal` / `readWal`: a member's WAL as etcd-dump-logs (etcd v3.5.16
//! tools/etcd-dump-logs/main.go) prints it: the snapshot `Load` picks, `OpenForRead` at it,
//! `ReadAll`, the metadata and HardState, then the entries its `--entry-type` filters pass.
//! Written once for the CLI, the bindings and the viewer; the payload text is
//! [`crate::walpayload`]'s, the reading is [`crate::wal`]'s. Nothing is written: `Load`'s
//! pick is taken without renaming unreadable files (etcd-dump-logs' `Load` would).
//!
//! Entries are read again from their segments one at a time ([`WalDump::visit`]), so a large
//! WAL is dumped with memory bounded by `ReadAll`'s per-entry index.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::pb::HardState;
use crate::snapshotter::{AfterReadError, after_read_error};
use crate::storage::ReadOnly;
use crate::wal::{EntryInfo, OpenMode, RawRecord, ReadAll, Wal};
use crate::walpayload::{self, DEFAULT_ENTRY_TYPES, EntryFilter, EntryView, Metadata, format_id};
use crate::{ConfState, EtcdVersion, Options, Snapshotter, Storage, WalSnapshot};

/// What to dump (etcd-dump-logs' flags, plus `end_index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpQuery {
    /// `--start-index`: when non-zero, read from this index instead of from the snapshot
    /// (`wal: snapshot not found` is then tolerated, as etcd-dump-logs does).
    pub start_index: u64,
    /// Only entries at or below this index (ours; `None`: all).
    pub end_index: Option<u64>,
    /// `--entry-type`, comma-separated (default `Normal,ConfigChange`).
    pub entry_types: String,
}

impl Default for DumpQuery {
    fn default() -> Self {
        DumpQuery {
            start_index: 0,
            end_index: None,
            entry_types: DEFAULT_ENTRY_TYPES.to_owned(),
        }
    }
}

/// The snapshot the dump starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpSnapshot {
    /// Its file.
    pub name: String,
    /// Raft term.
    pub term: u64,
    /// Raft index.
    pub index: u64,
    /// Its ConfState (in JSON, member IDs in hex like `node_id`).
    #[serde(serialize_with = "ser_conf_state")]
    pub conf_state: ConfState,
}

fn ser_conf_state<S: serde::Serializer>(
    cs: &ConfState,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let ids = |v: &[u64]| v.iter().map(|i| format_id(*i)).collect::<Vec<_>>();
    serde_json::json!({
        "voters": ids(&cs.voters),
        "learners": ids(&cs.learners),
        "voters_outgoing": ids(&cs.voters_outgoing),
        "learners_next": ids(&cs.learners_next),
        "auto_leave": cs.auto_leave,
    })
    .serialize(s)
}

/// The WAL's metadata and HardState as the dump shows them (IDs in hex, as `types.ID`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpHead {
    /// `"snapshot"` or `"index"`: where reading started.
    pub start: &'static str,
    /// `--start-index`, when reading started there.
    pub start_index: Option<u64>,
    /// The snapshot read from (`None`: no snapshot, or `--start-index`).
    pub snapshot: Option<DumpSnapshot>,
    /// Member ID (hex).
    pub node_id: String,
    /// Cluster ID (hex).
    pub cluster_id: String,
    /// HardState term.
    pub term: u64,
    /// HardState commit.
    pub commit_index: u64,
    /// HardState vote (hex).
    pub vote: String,
    /// `ReadAll`'s entries (within `end_index`).
    pub entries: u64,
    /// The last of them.
    pub last_index: Option<u64>,
    /// The `--entry-type` flag.
    pub entry_types: String,
    /// Names in it etcd-dump-logs ignores.
    pub ignored_entry_types: Vec<String>,
    /// The tolerated error that ended `ReadAll` early (`unexpected EOF`), if any.
    pub read_error: Option<String>,
}

/// One WAL segment, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DumpSegment {
    /// File name.
    pub name: String,
    /// Sequence number.
    pub seq: u64,
    /// First index.
    pub index: u64,
    /// Size in bytes.
    pub size: u64,
}

/// One entry the filters pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DumpEntry {
    /// Raft term.
    pub term: u64,
    /// Raft index.
    pub index: u64,
    /// The `type` column (`norm`, `conf`).
    #[serde(rename = "type")]
    pub type_column: &'static str,
    /// The decoded payload (kind, `text` = the `data` column, `request`).
    #[serde(flatten)]
    pub view: EntryView,
}

impl DumpEntry {
    /// etcd-dump-logs' line (no newline).
    pub fn line(&self) -> String {
        self.view.line(self.term, self.index)
    }
}

/// A WAL opened for dumping: `ReadAll` done, entries read on [`visit`](Self::visit).
pub struct WalDump<W: Storage> {
    wal: Wal<ReadOnly<W>>,
    head: DumpHead,
    entries: Vec<EntryInfo>,
    filters: Vec<EntryFilter>,
}

/// `Load`'s pick, without renaming: the newest `.snap` that reads.
async fn load<S: Storage>(snap: S) -> Result<Option<DumpSnapshot>> {
    let sn = Snapshotter::open(
        ReadOnly::new(snap),
        Options {
            lock: None,
            clean_tmp_on_open: false,
            max_broken: None,
        },
    )
    .await?;
    let names = sn.storage().list().await?;
    for name in crate::names::load_candidates(names.iter().map(String::as_str)) {
        match sn.read(&name).await {
            Ok(s) => {
                return Ok(Some(DumpSnapshot {
                    name,
                    term: s.metadata.term,
                    index: s.metadata.index,
                    conf_state: s.metadata.conf_state,
                }));
            }
            Err(e) if after_read_error(e.io_kind()) == AfterReadError::Stop => return Err(e),
            Err(_) => {}
        }
    }
    Ok(None)
}

impl<W: Storage> WalDump<W> {
    /// Opens the WAL folder `wal` (and, unless `q.start_index` is set, takes `Load`'s pick
    /// from the snap folder `snap`; `None`: no snap folder) and runs `ReadAll` as
    /// etcd-dump-logs does. `v` is the etcd whose decoding rules apply.
    pub async fn open<S: Storage>(
        snap: Option<S>,
        wal: W,
        q: &DumpQuery,
        v: EtcdVersion,
    ) -> Result<Self> {
        let by_index = q.start_index != 0;
        let snapshot = match (by_index, snap) {
            (false, Some(s)) => load(s).await?,
            _ => None,
        };
        let at = match (&snapshot, by_index) {
            (_, true) => WalSnapshot {
                index: q.start_index,
                term: 0,
            },
            (Some(s), _) => WalSnapshot {
                index: s.index,
                term: s.term,
            },
            (None, _) => WalSnapshot::default(),
        };
        let wal = Wal::open(ReadOnly::new(wal)).await?;
        let read: ReadAll = wal.read_all(at, v, OpenMode::Read).await?;
        if let Some(e) = read.error(OpenMode::Read)
            && !by_index
        {
            return Err(e);
        }
        let meta = if read.metadata.is_empty() {
            Metadata {
                node_id: 0,
                cluster_id: 0,
            }
        } else {
            walpayload::decode_metadata(&read.metadata)?
        };
        let entries: Vec<EntryInfo> = read
            .entries
            .iter()
            .filter(|e| q.end_index.is_none_or(|end| e.index <= end))
            .copied()
            .collect();
        let (filters, ignored) = walpayload::parse_entry_types(&q.entry_types);
        let HardState { term, vote, commit } = read.state;
        let head = DumpHead {
            start: if by_index { "index" } else { "snapshot" },
            start_index: by_index.then_some(q.start_index),
            snapshot,
            node_id: format_id(meta.node_id),
            cluster_id: format_id(meta.cluster_id),
            term,
            commit_index: commit,
            vote: format_id(vote),
            entries: entries.len() as u64,
            last_index: entries.last().map(|e| e.index),
            entry_types: q.entry_types.clone(),
            ignored_entry_types: ignored,
            read_error: read.read_error.clone(),
        };
        Ok(WalDump {
            wal,
            head,
            entries,
            filters,
        })
    }

    /// The metadata, HardState and counts.
    pub fn head(&self) -> &DumpHead {
        &self.head
    }

    /// The WAL folder's segments.
    pub fn segments(&self) -> Vec<DumpSegment> {
        self.wal
            .listing()
            .segments
            .iter()
            .map(|s| DumpSegment {
                name: s.name.clone(),
                seq: s.seq,
                index: s.index,
                size: s.size,
            })
            .collect()
    }

    /// The entries `ReadAll` returned (within `end_index`), without their data.
    pub fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// Everything etcd-dump-logs v3.5.16 prints before the entries (main.go:78-127): the start,
    /// `Snapshot:`, `WAL metadata:`, `WAL entries:`, `lastIndex=` and the column header, each
    /// line ending in a newline.
    pub fn head_text(&self) -> String {
        let h = &self.head;
        let mut out = String::new();
        match h.start_index {
            Some(i) => out.push_str(&format!("Start dumping log entries from index {i}.\n")),
            None => {
                match &h.snapshot {
                    Some(s) => out.push_str(&format!(
                        "Snapshot:\nterm={} index={} nodes={} confstate={}\n",
                        s.term,
                        s.index,
                        go_ids(&s.conf_state.voters),
                        conf_state_json(&s.conf_state)
                    )),
                    None => out.push_str("Snapshot:\nempty\n"),
                }
                out.push_str("Start dumping log entries from snapshot.\n");
            }
        }
        out.push_str(&format!(
            "WAL metadata:\nnodeID={} clusterID={} term={} commitIndex={} vote={}\n",
            h.node_id, h.cluster_id, h.term, h.commit_index, h.vote
        ));
        // v3.5.16 prints no count here and `lastIndex` unconditionally (it panics with an
        // index out of range when there is no entry; the line is left out then, as etcd's
        // main branch does).
        out.push_str("WAL entries:\n");
        if let Some(l) = h.last_index {
            out.push_str(&format!("lastIndex={l}\n"));
        }
        out.push_str(&walpayload::header_line());
        out.push('\n');
        out
    }

    /// The line after the entries: `\nEntry types (T) count is : N\n`.
    pub fn count_text(&self, count: u64) -> String {
        format!(
            "\nEntry types ({}) count is : {count}\n",
            self.head.entry_types
        )
    }

    /// Reads the entries in order and hands each one the filters pass to `visit` (in
    /// etcd-dump-logs' order, the first matching filter decides); returns how many passed.
    pub async fn visit(&self, visit: &mut dyn FnMut(DumpEntry) -> Result<()>) -> Result<u64> {
        let mut count = 0u64;
        self.wal
            .visit_entries(&self.entries, &mut |e, data| {
                let view = walpayload::describe_entry(e.entry_type, &data);
                if self.filters.iter().any(|f| f.passes(&view)) {
                    count += 1;
                    visit(DumpEntry {
                        term: e.term,
                        index: e.index,
                        type_column: view.type_column(),
                        view,
                    })?;
                }
                Ok(())
            })
            .await?;
        Ok(count)
    }
}

/// Go's `%s` of a `[]types.ID`: `[a b c]` in hex.
fn go_ids(ids: &[u64]) -> String {
    let parts: Vec<String> = ids.iter().map(|i| format_id(*i)).collect();
    format!("[{}]", parts.join(" "))
}

/// Go's `json.Marshal(raftpb.ConfState)`: the `omitempty` lists, then `auto_leave`.
pub fn conf_state_json(cs: &ConfState) -> String {
    let mut parts = Vec::new();
    for (name, v) in [
        ("voters", &cs.voters),
        ("learners", &cs.learners),
        ("voters_outgoing", &cs.voters_outgoing),
        ("learners_next", &cs.learners_next),
    ] {
        if !v.is_empty() {
            let nums: Vec<String> = v.iter().map(u64::to_string).collect();
            parts.push(format!("\"{name}\":[{}]", nums.join(",")));
        }
    }
    parts.push(format!("\"auto_leave\":{}", cs.auto_leave));
    format!("{{{}}}", parts.join(","))
}

/// `walpb.Record.type`'s name.
pub fn record_type_name(t: i64) -> &'static str {
    match t {
        1 => "metadata",
        2 => "entry",
        3 => "state",
        4 => "crc",
        5 => "snapshot",
        _ => "unknown",
    }
}

/// One record of `--raw`, as shown and as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawLine {
    /// Segment name.
    pub segment: String,
    /// Offset of the length word.
    pub offset: u64,
    /// Record type name.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// Marshalled record length.
    pub len: u64,
    /// The record's CRC field.
    pub crc: String,
    /// `None` when the CRC check passed; else etcd's error for it.
    pub error: Option<String>,
    /// What the record holds (entry `term`/`index`/`data` column, HardState, snapshot, ...).
    pub detail: String,
}

impl RawLine {
    /// Describes a record of [`Wal::raw_records`] in `segments`' names.
    pub fn of(r: &RawRecord, segment: &str) -> RawLine {
        let detail = match r.record_type {
            1 => match walpayload::decode_metadata(&r.data) {
                Ok(m) => format!(
                    "nodeID={} clusterID={}",
                    format_id(m.node_id),
                    format_id(m.cluster_id)
                ),
                Err(e) => format!("error: {e}"),
            },
            2 => match crate::pb::decode::<crate::pb::Entry>(r.data.clone()) {
                Ok(e) => {
                    let v = walpayload::describe_entry(e.r#type, &e.data.unwrap_or_default());
                    format!("term={} index={} {}", e.term, e.index, v.text)
                }
                Err(e) => format!("error: {e}"),
            },
            3 => match walpayload::decode_hard_state(&r.data) {
                Ok(h) => format!(
                    "term={} vote={} commit={}",
                    h.term,
                    format_id(h.vote),
                    h.commit
                ),
                Err(e) => format!("error: {e}"),
            },
            5 => match walpayload::decode_wal_snapshot(&r.data) {
                Ok(s) => {
                    let s = s.key();
                    format!("term={} index={}", s.term, s.index)
                }
                Err(e) => format!("error: {e}"),
            },
            _ => String::new(),
        };
        let error = (!r.crc_ok).then(|| {
            if r.record_type == 4 {
                Error::WalCrcMismatch.to_string()
            } else {
                Error::WalRecordCrcMismatch.to_string()
            }
        });
        RawLine {
            segment: segment.to_owned(),
            offset: r.offset,
            record_type: record_type_name(r.record_type),
            len: r.rec_len,
            crc: format!("{:08x}", r.crc),
            error,
            detail,
        }
    }

    /// The table line (no newline).
    pub fn line(&self) -> String {
        format!(
            "{}\t{:10}\t{:8}\t{:8}\t{}\t{}\t{}",
            self.segment,
            self.offset,
            self.record_type,
            self.len,
            self.crc,
            self.error.as_deref().unwrap_or("ok"),
            self.detail
        )
    }
}

/// The `--raw` column header.
pub fn raw_header_line() -> String {
    format!(
        "segment\t{:>10}\t{:8}\t{:>8}\tcrc\tcheck\tdetail",
        "offset", "type", "len"
    )
}
