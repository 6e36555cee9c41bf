//! WAL record payloads, decoded and shown as etcd-dump-logs shows them (etcd v3.5.16
//! tools/etcd-dump-logs/main.go): pure functions over bytes, for the WAL reader (`src/wal/`),
//! the CLI and the viewer.
//!
//! The schema is etcd's own: the `.proto` files of etcd v3.5.16 (a superset of 3.4's) are
//! vendored in `proto/`, and `proto/gen` (`cargo run --manifest-path
//! src/walpayload/proto/gen/Cargo.toml`) compiles them with `protox` into
//! `generated/`: prost structs ([`pb`]), the encoded `FileDescriptorSet` and the tables
//! ([`schema`]) the printer walks. Which request a normal entry holds is decided as
//! etcd-dump-logs and etcd's apply path (etcdserver/server.go `applyEntryNormal`) decide it:
//! an `InternalRaftRequest` if gogo's Unmarshal accepts the bytes, else a v2 `Request`.
//! "Accepts" is etcd 3.4's gogo verdict (`crate::pb::gogo`), replayed exactly, so the
//! borderline inputs land where etcd puts them.
//!
//! Unknown fields are dropped from the text, as etcd 3.4's etcdserverpb does (it keeps no
//! `XXX_unrecognized`); etcd 3.5's dump-logs would append them.

mod golang;
pub mod schema;
mod text;
pub mod version;

#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[rustfmt::skip]
mod tables {
    include!("generated/schema.rs");
}

/// Prost structs generated from etcd v3.5.16's `.proto` files (proto2 `etcdserver.proto`
/// fields are `Option`s, as prost maps proto2).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[rustfmt::skip]
pub mod pb {
    /// `etcdserverpb`: requests, `InternalRaftRequest`, v2 `Request`, `Metadata`.
    pub mod etcdserverpb {
        include!("generated/etcdserverpb.rs");
    }
    /// `membershippb` (etcd 3.5+ cluster requests).
    pub mod membershippb {
        include!("generated/membershippb.rs");
    }
    /// `authpb`.
    pub mod authpb {
        include!("generated/authpb.rs");
    }
    /// `mvccpb`.
    pub mod mvccpb {
        include!("generated/mvccpb.rs");
    }
}

pub use golang::{excerpt, format_id, quote, unix_nanos_utc};

use crate::error::{DecodeError, Error, Result};
use crate::pb::gogo;
use crate::pb::{
    ConfChange, ConfChangeType, ConfChangeV2, EntryType, HardState, WalSnapshotRecord,
};
use schema::Msg;
use tables::{
    M_ETCDSERVERPB_INTERNALRAFTREQUEST as IRR, M_ETCDSERVERPB_METADATA,
    M_ETCDSERVERPB_REQUEST as V2,
};

/// etcd-dump-logs' default `--entry-type`.
pub const DEFAULT_ENTRY_TYPES: &str = "Normal,ConfigChange";

/// What an entry holds, named as etcd-dump-logs names it (its `currtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EntryKind {
    /// `EntryConfChange` (printed `conf`).
    ConfigChange,
    /// A normal entry gogo decodes as `etcdserverpb.InternalRaftRequest` (empty data too).
    InternalRaftRequest,
    /// A normal entry that is only a v2 `etcdserverpb.Request`.
    Request,
    /// A normal entry that is neither (`???`).
    UnknownNormal,
    /// `EntryConfChangeV2`: etcd-dump-logs matches it with no filter and never prints it.
    ConfChangeV2,
    /// An entry type raft does not define; never printed.
    UnknownType,
}

impl EntryKind {
    /// The name (`InternalRaftRequest`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::ConfigChange => "ConfigChange",
            EntryKind::InternalRaftRequest => "InternalRaftRequest",
            EntryKind::Request => "Request",
            EntryKind::UnknownNormal => "UnknownNormal",
            EntryKind::ConfChangeV2 => "ConfChangeV2",
            EntryKind::UnknownType => "UnknownType",
        }
    }
}

/// A request decoded from a normal entry, in a JSON-friendly form (protojson's mapping with
/// proto field names: 64-bit integers as strings, bytes base64, enums by name).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecodedRequest {
    /// `etcdserverpb.InternalRaftRequest` or `etcdserverpb.Request`.
    pub message: &'static str,
    /// The fields set, as gogo's Go struct holds them.
    pub fields: serde_json::Value,
}

/// One entry's payload as etcd-dump-logs shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntryView {
    /// What it is.
    pub kind: EntryKind,
    /// The `data` column: `header:<ID:1 > put:<key:"foo" value:"bar" > `,
    /// `method=PUT path="/0/version" val="3.4.0"`, `method=ConfChangeAddNode id=…`, `???`;
    /// empty for the kinds etcd-dump-logs never prints.
    pub text: String,
    /// The decoded request, for normal entries that hold one.
    pub request: Option<DecodedRequest>,
    /// The `InternalRaftRequest` fields set (proto names), for the `IRR*` filters.
    #[serde(skip)]
    irr_fields: Vec<&'static str>,
}

impl EntryView {
    /// The `type` column: `norm` or `conf` (empty for kinds never printed).
    pub fn type_column(&self) -> &'static str {
        match self.kind {
            EntryKind::ConfigChange => "conf",
            EntryKind::InternalRaftRequest | EntryKind::Request | EntryKind::UnknownNormal => {
                "norm"
            }
            EntryKind::ConfChangeV2 | EntryKind::UnknownType => "",
        }
    }

    /// The whole line etcd-dump-logs prints (`%4d\t%10d\t<type>\t<data>`, no newline).
    pub fn line(&self, term: u64, index: u64) -> String {
        format!(
            "{term:4}\t{index:10}\t{}\t{}",
            self.type_column(),
            self.text
        )
    }

    /// True if the `InternalRaftRequest` has the field `name` (proto name, e.g. `put`) set.
    pub fn has_irr_field(&self, name: &str) -> bool {
        self.irr_fields.contains(&name)
    }
}

/// The column header etcd-dump-logs prints above the entries (without `--stream-decoder`).
pub fn header_line() -> String {
    format!("{:>4}\t{:>10}\ttype\tdata", "term", "index")
}

/// Describes one entry's payload as etcd-dump-logs would (`entry_type` is raftpb's
/// `EntryType` number). Never fails: undecodable data is etcd-dump-logs' `???`.
pub fn describe_entry(entry_type: i32, data: &[u8]) -> EntryView {
    let view = |kind, text: String| EntryView {
        kind,
        text,
        request: None,
        irr_fields: Vec::new(),
    };
    match EntryType::try_from(entry_type) {
        Ok(EntryType::EntryConfChange) => {
            // printConfChange: `method=%s id=%s` of r.Type and types.ID(r.NodeID).
            match crate::pb::decode::<ConfChange>(bytes::Bytes::copy_from_slice(data)) {
                Ok(cc) => view(
                    EntryKind::ConfigChange,
                    format!(
                        "method={} id={}",
                        conf_change_type(cc.r#type),
                        format_id(cc.node_id)
                    ),
                ),
                Err(_) => view(EntryKind::ConfigChange, "???".into()),
            }
        }
        Ok(EntryType::EntryNormal) => describe_normal(data),
        Ok(EntryType::EntryConfChangeV2) => view(EntryKind::ConfChangeV2, String::new()),
        Err(_) => view(EntryKind::UnknownType, String::new()),
    }
}

/// gogo's `ConfChangeType.String()`: the name, or the number for values raft does not define.
fn conf_change_type(t: i32) -> String {
    match ConfChangeType::try_from(t) {
        Ok(t) => format!("{t:?}"),
        Err(_) => t.to_string(),
    }
}

/// gogo's reading of `data` as `msg`, or its error.
fn read(msg: &'static Msg, data: &[u8]) -> Result<text::Node, DecodeError> {
    let canonical = gogo::canonicalize(msg.gogo, data)?;
    text::build(msg, &canonical, 0)
}

fn describe_normal(data: &[u8]) -> EntryView {
    // passInternalRaftRequest / passRequest / passUnknownNormal, in etcd-dump-logs' order.
    if let Ok(node) = read(&IRR, data) {
        let mut text = String::new();
        text::compact_text(&node, &mut text);
        return EntryView {
            kind: EntryKind::InternalRaftRequest,
            text,
            irr_fields: node.entries.iter().map(|(f, _)| f.name).collect(),
            request: Some(DecodedRequest {
                message: IRR.name,
                fields: text::to_json(&node),
            }),
        };
    }
    let Ok(node) = read(&V2, data) else {
        return EntryView {
            kind: EntryKind::UnknownNormal,
            text: "???".into(),
            request: None,
            irr_fields: Vec::new(),
        };
    };
    EntryView {
        kind: EntryKind::Request,
        text: v2_line(&node),
        request: Some(DecodedRequest {
            message: V2.name,
            fields: text::to_json(&node),
        }),
        irr_fields: Vec::new(),
    }
}

/// printRequest's data column.
fn v2_line(node: &text::Node) -> String {
    let s = |name| match node.get(name) {
        Some(text::Value::Bytes(b, _)) => b.as_slice(),
        _ => &[],
    };
    let (method, path, val) = (s("Method"), s("Path"), s("Val"));
    let m = String::from_utf8_lossy(method);
    match method {
        b"" => "noop".into(),
        b"SYNC" => {
            let t = match node.get("Time") {
                Some(text::Value::I64(t)) => *t,
                _ => 0,
            };
            format!("method=SYNC time={}", quote(unix_nanos_utc(t).as_bytes()))
        }
        b"QGET" | b"DELETE" => format!("method={m} path={}", excerpt(path, 64, 64)),
        _ => format!(
            "method={} path={} val={}",
            go_verb_s(method),
            excerpt(path, 64, 64),
            excerpt(val, 128, 0)
        ),
    }
}

/// Go's `%s` of a string: its bytes as they are (invalid UTF-8 shown as U+FFFD here).
fn go_verb_s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One of etcd-dump-logs' `--entry-type` filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryFilter {
    /// `ConfigChange`.
    ConfigChange,
    /// `Normal`: every normal entry (InternalRaftRequest, Request, UnknownNormal).
    Normal,
    /// `Request` (v2).
    Request,
    /// `InternalRaftRequest`.
    InternalRaftRequest,
    /// `IRR<Field>`: an InternalRaftRequest with that field set (`IRRPut` → `put`).
    Irr(&'static str),
}

/// The `IRR*` filter names and the InternalRaftRequest field each requires
/// (evaluateEntrytypeFlag's table).
const IRR_FILTERS: &[(&str, &str)] = &[
    ("IRRRange", "range"),
    ("IRRPut", "put"),
    ("IRRDeleteRange", "delete_range"),
    ("IRRTxn", "txn"),
    ("IRRCompaction", "compaction"),
    ("IRRLeaseGrant", "lease_grant"),
    ("IRRLeaseRevoke", "lease_revoke"),
    ("IRRLeaseCheckpoint", "lease_checkpoint"),
];

/// The filter an `--entry-type` name selects, if etcd-dump-logs knows the name.
pub fn entry_type_filter(name: &str) -> Option<EntryFilter> {
    Some(match name {
        "ConfigChange" => EntryFilter::ConfigChange,
        "Normal" => EntryFilter::Normal,
        "Request" => EntryFilter::Request,
        "InternalRaftRequest" => EntryFilter::InternalRaftRequest,
        _ => EntryFilter::Irr(IRR_FILTERS.iter().find(|(n, _)| *n == name)?.1),
    })
}

/// etcd-dump-logs' `evaluateEntrytypeFlag`: the comma-separated list's filters, and the names
/// it ignores (each logged by etcd-dump-logs with [`invalid_entry_type_message`]).
pub fn parse_entry_types(flag: &str) -> (Vec<EntryFilter>, Vec<String>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    if flag.is_empty() {
        return (ok, bad);
    }
    for name in flag.split(',') {
        match entry_type_filter(name) {
            Some(f) => ok.push(f),
            None => bad.push(name.to_owned()),
        }
    }
    (ok, bad)
}

/// What etcd-dump-logs logs for an unknown `--entry-type` name.
pub fn invalid_entry_type_message(name: &str) -> String {
    format!(
        "[{name}] is not a valid entry-type, ignored.\nPlease set entry-type to one or more of the following:\nConfigChange, Normal, Request, InternalRaftRequest,\nIRRRange, IRRPut, IRRDeleteRange, IRRTxn,\nIRRCompaction, IRRLeaseGrant, IRRLeaseRevoke, IRRLeaseCheckpoint"
    )
}

impl EntryFilter {
    /// Whether etcd-dump-logs prints the entry under this filter.
    pub fn passes(&self, view: &EntryView) -> bool {
        match self {
            EntryFilter::ConfigChange => view.kind == EntryKind::ConfigChange,
            EntryFilter::Normal => matches!(
                view.kind,
                EntryKind::InternalRaftRequest | EntryKind::Request | EntryKind::UnknownNormal
            ),
            EntryFilter::Request => view.kind == EntryKind::Request,
            EntryFilter::InternalRaftRequest => view.kind == EntryKind::InternalRaftRequest,
            EntryFilter::Irr(field) => {
                view.kind == EntryKind::InternalRaftRequest && view.has_irr_field(field)
            }
        }
    }
}

/// `etcdserverpb.Metadata`, the WAL's metadata record (etcdserver/etcdserverpb/etcdserver.proto).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Metadata {
    /// This member's ID.
    pub node_id: u64,
    /// The cluster's ID.
    pub cluster_id: u64,
}

/// Decodes a WAL metadata record, with gogo's verdict and errors.
pub fn decode_metadata(data: &[u8]) -> Result<Metadata> {
    let m: pb::etcdserverpb::Metadata = decode_generated(&M_ETCDSERVERPB_METADATA, data)?;
    Ok(Metadata {
        node_id: m.node_id.unwrap_or_default(),
        cluster_id: m.cluster_id.unwrap_or_default(),
    })
}

/// Decodes an `etcdserverpb.InternalRaftRequest` into the generated struct. gogo accepts any
/// bytes in a `string`; prost does not, so such an entry fails here though
/// [`describe_entry`] shows it.
pub fn decode_internal_raft_request(data: &[u8]) -> Result<pb::etcdserverpb::InternalRaftRequest> {
    decode_generated(&IRR, data)
}

/// Decodes a v2 `etcdserverpb.Request` into the generated struct (see
/// [`decode_internal_raft_request`] for strings).
pub fn decode_v2_request(data: &[u8]) -> Result<pb::etcdserverpb::Request> {
    decode_generated(&V2, data)
}

/// prost first; on failure gogo's error, or gogo's reading re-encoded for prost.
fn decode_generated<M: prost::Message + Default>(msg: &'static Msg, data: &[u8]) -> Result<M> {
    match M::decode(data) {
        Ok(m) => Ok(m),
        Err(prost_err) => {
            if let Some(e) = gogo::explain(msg.gogo, data) {
                return Err(e.into());
            }
            let canonical = gogo::canonicalize(msg.gogo, data)?;
            M::decode(canonical.as_slice())
                .map_err(|_| Error::Decode(DecodeError::Other(prost_err.to_string())))
        }
    }
}

/// Decodes a `raftpb.HardState` (a WAL state record).
pub fn decode_hard_state(data: &[u8]) -> Result<HardState> {
    Ok(crate::pb::decode(bytes::Bytes::copy_from_slice(data))?)
}

/// Decodes a `raftpb.ConfChange` (an `EntryConfChange`'s data).
pub fn decode_conf_change(data: &[u8]) -> Result<ConfChange> {
    Ok(crate::pb::decode(bytes::Bytes::copy_from_slice(data))?)
}

/// Decodes a `raftpb.ConfChangeV2` (an `EntryConfChangeV2`'s data).
pub fn decode_conf_change_v2(data: &[u8]) -> Result<ConfChangeV2> {
    Ok(crate::pb::decode(bytes::Bytes::copy_from_slice(data))?)
}

/// Decodes a `walpb.Snapshot` WAL record, with 3.5's `conf_state`.
pub fn decode_wal_snapshot(data: &[u8]) -> Result<WalSnapshotRecord> {
    Ok(crate::pb::decode(bytes::Bytes::copy_from_slice(data))?)
}
