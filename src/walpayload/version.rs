//! The minimal etcd version a WAL needs, as etcd 3.6 computes it (v3.6.9
//! server/storage/wal/version.go `MinimalEtcdVersion`): the highest `versionpb` annotation
//! (`etcd_version_msg`, `_field`, `_enum`, `_enum_value`) of what the entries after the
//! snapshot use. `etcdutl migrate --target-version` refuses a downgrade below it
//! (v3.6.9 server/storage/schema/schema.go:70, `cannot downgrade storage, WAL contains newer
//! entries`). The annotations are read from etcd v3.6.9's `.proto` files by the generator
//! (`generated/versions.rs`), never written by hand.
//!
//! Go's walk is replayed as it is: an entry's message and every populated field (proto3:
//! non-zero) count, embedded messages are visited, but the elements of repeated fields are not
//! (`protoreflect.List` is neither a message nor an enum: a txn's compares and ops add only
//! the field's own annotation); an enum value is looked up by its number as an index into the
//! declared values; conf changes count as 3.0 (v2: 3.4), and one that does not decode is
//! skipped; a normal entry that is not an `InternalRaftRequest` is read as a v2 `Request`
//! (etcd 3.5 still writes its cluster version and member attributes that way, etcd PR #19168),
//! which carries no annotation. Where Go panics (a normal entry that decodes as neither, or
//! an enum number past the declared values), this is an error naming the entry. etcd main
//! dropped the v2 fallback (it panics on v2 entries); this follows v3.6.9.

use prost::encoding::{WireType, decode_key, decode_varint};

use crate::pb::EntryType;
use crate::pb::gogo::{self, Schema};

/// A version as the annotations give it (`"3.5"` is 3.5.0).
pub type Version = (u64, u64, u64);

/// One message of etcd 3.6's schema.
#[derive(Debug)]
pub struct VMsg {
    /// Full proto name.
    pub name: &'static str,
    /// `etcd_version_msg`.
    pub version: Option<Version>,
    /// gogo's view, for the `Unmarshal` verdict.
    pub gogo: &'static Schema,
    /// Fields by number.
    pub fields: &'static [VField],
}

/// One field.
#[derive(Debug)]
pub struct VField {
    /// Field number.
    pub number: u32,
    /// Full proto name, as Go's visitor names it.
    pub name: &'static str,
    /// `etcd_version_field`.
    pub version: Option<Version>,
    /// `repeated`.
    pub repeated: bool,
    /// A oneof member: populated when set, even to zero.
    pub oneof: bool,
    /// Its type.
    pub ty: VKind,
}

/// A field's type, as far as the walk needs it.
#[derive(Debug)]
pub enum VKind {
    /// Integers and bools.
    Varint,
    /// Strings and bytes.
    Bytes,
    /// An enum.
    Enum(&'static VEnum),
    /// An embedded message.
    Message(&'static VMsg),
}

/// One enum.
#[derive(Debug)]
pub struct VEnum {
    /// Full proto name.
    pub name: &'static str,
    /// `etcd_version_enum`.
    pub version: Option<Version>,
    /// `(full name, etcd_version_enum_value)` in declaration order.
    pub values: &'static [(&'static str, Option<Version>)],
}

#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[rustfmt::skip]
mod tables {
    include!("generated/versions.rs");
}

/// The highest annotation seen and what carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// The version.
    pub version: Version,
    /// The full proto name of the message, field or enum value that carried it.
    pub by: String,
}

impl Needed {
    /// `3.5.0`.
    pub fn version_text(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }
}

/// Keeps the maximum (`maxVersion`: the first of equal versions stays).
#[derive(Debug, Default)]
pub struct MinimalVersion {
    max: Option<Needed>,
}

impl MinimalVersion {
    fn see(&mut self, by: &str, v: Option<Version>) {
        if let Some(v) = v
            && self.max.as_ref().is_none_or(|m| m.version < v)
        {
            self.max = Some(Needed {
                version: v,
                by: by.to_owned(),
            });
        }
    }

    /// The result: `None` when nothing carried an annotation (no entries).
    pub fn result(self) -> Option<Needed> {
        self.max
    }

    /// The maximum so far.
    pub fn current(&self) -> Option<&Needed> {
        self.max.as_ref()
    }

    /// One entry (`visitEntry`). `Err` is where Go panics: the reason.
    pub fn entry(&mut self, entry_type: i32, data: &[u8]) -> Result<(), String> {
        match EntryType::try_from(entry_type) {
            Ok(EntryType::EntryNormal) => {
                let root = &tables::VM_ETCDSERVERPB_INTERNALRAFTREQUEST;
                let canonical = match gogo::canonicalize(root.gogo, data) {
                    Ok(c) => c,
                    // v3.6.9 version.go:110: "try V2 Request", else the first error.
                    Err(e) => {
                        let v2 = &tables::VM_ETCDSERVERPB_REQUEST;
                        let c = gogo::canonicalize(v2.gogo, data).map_err(|_| e.to_string())?;
                        return self.message(v2, &c);
                    }
                };
                if let Some(ver) = downgrade_test_version(&canonical)? {
                    self.see(root.name, Some(ver));
                }
                self.message(root, &canonical)
            }
            Ok(EntryType::EntryConfChange) => {
                if crate::walpayload::decode_conf_change(data).is_ok() {
                    self.see("raftpb.ConfChange", Some((3, 0, 0)));
                }
                Ok(())
            }
            Ok(EntryType::EntryConfChangeV2) => {
                if crate::walpayload::decode_conf_change_v2(data).is_ok() {
                    self.see("raftpb.ConfChangeV2", Some((3, 4, 0)));
                }
                Ok(())
            }
            Err(_) => Err(format!("unhandled entry type {entry_type}")),
        }
    }

    /// `visitMessage` over gogo's canonical encoding of one message.
    fn message(&mut self, m: &'static VMsg, mut buf: &[u8]) -> Result<(), String> {
        self.see(m.name, m.version);
        // The populated fields, with the merged bytes of message fields and the last scalar.
        let mut seen: Vec<(&'static VField, Populated)> = Vec::new();
        while !buf.is_empty() {
            let (number, wire) = decode_key(&mut buf).map_err(|e| e.to_string())?;
            let field = m.fields.iter().find(|f| f.number == number);
            let value = match wire {
                WireType::Varint => {
                    Populated::Scalar(decode_varint(&mut buf).map_err(|e| e.to_string())?)
                }
                WireType::LengthDelimited => {
                    let len = decode_varint(&mut buf).map_err(|e| e.to_string())? as usize;
                    let (v, rest) = buf.split_at_checked(len).ok_or("truncated field")?;
                    buf = rest;
                    Populated::Bytes(v.to_vec())
                }
                other => return Err(format!("unexpected wire type {other:?} in canonical bytes")),
            };
            let Some(field) = field else { continue };
            match seen.iter_mut().find(|(f, _)| f.number == number) {
                Some((_, prev)) => prev.merge(field, value),
                None => seen.push((field, value)),
            }
        }
        for (f, value) in seen {
            if !value.populated(f) {
                continue;
            }
            self.see(f.name, f.version);
            if f.repeated {
                continue; // a protoreflect.List: not visited further
            }
            match (&f.ty, value) {
                (VKind::Message(sub), Populated::Bytes(b)) => self.message(sub, &b)?,
                (VKind::Enum(e), Populated::Scalar(n)) => {
                    self.see(e.name, e.version);
                    let n = n as i32; // Go's EnumNumber is an int32
                    let (name, v) = usize::try_from(n)
                        .ok()
                        .and_then(|i| e.values.get(i))
                        .ok_or_else(|| format!("could not visit EnumNumber [{n}]"))?;
                    self.see(name, *v);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The fields numbered `number` of one canonical message, in order: (wire type, bytes or
/// varint).
fn fields_numbered(mut buf: &[u8], number: u32) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (n, wire) = decode_key(&mut buf).map_err(|e| e.to_string())?;
        match wire {
            WireType::Varint => {
                decode_varint(&mut buf).map_err(|e| e.to_string())?;
            }
            WireType::LengthDelimited => {
                let len = decode_varint(&mut buf).map_err(|e| e.to_string())? as usize;
                let (v, rest) = buf.split_at_checked(len).ok_or("truncated field")?;
                buf = rest;
                if n == number {
                    out.push(v.to_vec());
                }
            }
            other => return Err(format!("unexpected wire type {other:?} in canonical bytes")),
        }
    }
    Ok(out)
}

/// `InternalRaftRequest.downgrade_version_test.ver` (field 9900, then 1), which etcd's walk
/// counts as the version it names (version.go:110, `semver.NewVersion`: `v` allowed, missing
/// parts 0; a version that does not parse makes Go panic).
fn downgrade_test_version(irr: &[u8]) -> Result<Option<Version>, String> {
    let test = fields_numbered(irr, 9900)?;
    if test.is_empty() {
        return Ok(None);
    }
    let merged = test.concat();
    let ver = fields_numbered(&merged, 1)?.pop().unwrap_or_default();
    let text = String::from_utf8_lossy(&ver);
    let core = text.trim_start_matches('v');
    let core = core.split(['-', '+']).next().unwrap_or_default();
    let mut parts = Vec::new();
    for p in core.split('.') {
        parts.push(
            p.parse::<u64>()
                .map_err(|_| format!("Invalid Semantic Version: {text}"))?,
        );
    }
    if parts.is_empty() || parts.len() > 3 {
        return Err(format!("Invalid Semantic Version: {text}"));
    }
    parts.resize(3, 0);
    Ok(Some((parts[0], parts[1], parts[2])))
}

/// A field's value after gogo's `Unmarshal`: the last scalar, or the concatenated (merged)
/// bytes of every occurrence.
enum Populated {
    Scalar(u64),
    Bytes(Vec<u8>),
    Repeated,
}

impl Populated {
    fn merge(&mut self, f: &VField, next: Populated) {
        *self = match (std::mem::replace(self, Populated::Repeated), next) {
            _ if f.repeated => Populated::Repeated,
            (Populated::Bytes(mut a), Populated::Bytes(b)) if matches!(f.ty, VKind::Message(_)) => {
                a.extend_from_slice(&b);
                Populated::Bytes(a)
            }
            (_, n) => n,
        };
    }

    /// protoreflect's `Has` for a proto3 (or gogo non-nullable proto2) field.
    fn populated(&self, f: &VField) -> bool {
        match self {
            _ if f.repeated => true,
            Populated::Repeated => true,
            _ if f.oneof => true,
            Populated::Scalar(n) => *n != 0,
            Populated::Bytes(b) => matches!(f.ty, VKind::Message(_)) || !b.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    use crate::walpayload::pb::{etcdserverpb as e, membershippb as m};

    fn entry(t: EntryType, data: Vec<u8>) -> Option<String> {
        let mut v = MinimalVersion::default();
        v.entry(t as i32, &data).unwrap();
        v.result().map(|n| n.version_text())
    }

    fn message(m: &'static VMsg, data: Vec<u8>) -> Option<String> {
        let mut v = MinimalVersion::default();
        let canonical = gogo::canonicalize(m.gogo, &data).unwrap();
        v.message(m, &canonical).unwrap();
        v.result().map(|n| n.version_text())
    }

    /// `InternalRaftRequest{DowngradeVersionTest: {Ver: ver}}`: field 9900 is 3.6's, not in
    /// the 3.5 structs, so it is encoded by hand.
    fn downgrade_test(ver: &str) -> Vec<u8> {
        let mut inner = vec![0x0a, ver.len() as u8];
        inner.extend_from_slice(ver.as_bytes());
        let mut out = Vec::new();
        prost::encoding::encode_key(9900, WireType::LengthDelimited, &mut out);
        prost::encoding::encode_varint(inner.len() as u64, &mut out);
        out.extend_from_slice(&inner);
        out
    }

    /// etcd's `TestEtcdVersionFromEntry` (v3.6.9 server/storage/wal/version_test.go:34).
    #[test]
    fn etcd_version_from_entry() {
        let header = e::InternalRaftRequest {
            header: Some(e::RequestHeader {
                auth_revision: 1,
                ..Default::default()
            }),
            ..Default::default()
        };
        let n = EntryType::EntryNormal;
        assert_eq!(entry(n, header.encode_to_vec()).as_deref(), Some("3.1.0"));
        assert_eq!(entry(n, downgrade_test("3.6.0")).as_deref(), Some("3.6.0"));
        assert_eq!(entry(n, downgrade_test("3.7.0")).as_deref(), Some("3.7.0"));
        let learner = crate::pb::ConfChange {
            r#type: 2,
            ..Default::default()
        };
        assert_eq!(
            entry(EntryType::EntryConfChange, learner.encode_to_vec()).as_deref(),
            Some("3.0.0")
        );
        let joint = crate::pb::ConfChangeV2 {
            transition: 1,
            ..Default::default()
        };
        assert_eq!(
            entry(EntryType::EntryConfChangeV2, joint.encode_to_vec()).as_deref(),
            Some("3.4.0")
        );
    }

    /// etcd's `TestEtcdVersionFromMessage` (version_test.go:118).
    #[test]
    fn etcd_version_from_message() {
        use tables::{
            VM_ETCDSERVERPB_COMPARE as COMPARE, VM_ETCDSERVERPB_INTERNALRAFTREQUEST as IRR,
            VM_ETCDSERVERPB_REQUESTHEADER as HEADER,
        };
        let h = |auth_revision, username: &str| {
            e::RequestHeader {
                auth_revision,
                username: username.into(),
                ..Default::default()
            }
            .encode_to_vec()
        };
        assert_eq!(message(&HEADER, h(0, "")).as_deref(), Some("3.0.0"));
        assert_eq!(message(&HEADER, h(1, "")).as_deref(), Some("3.1.0"));
        assert_eq!(message(&HEADER, h(0, "Alice")).as_deref(), Some("3.0.0"));
        assert_eq!(message(&HEADER, h(1, "Alice")).as_deref(), Some("3.1.0"));
        let irr = |r: e::InternalRaftRequest| message(&IRR, r.encode_to_vec());
        let with_header = e::InternalRaftRequest {
            header: Some(e::RequestHeader {
                auth_revision: 1,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(irr(with_header).as_deref(), Some("3.1.0"));
        let downgrade = e::InternalRaftRequest {
            downgrade_info_set: Some(m::DowngradeInfoSetRequest::default()),
            ..Default::default()
        };
        assert_eq!(irr(downgrade).as_deref(), Some("3.5.0"));
        let cmp = |c: e::Compare| message(&COMPARE, c.encode_to_vec());
        assert_eq!(
            cmp(e::Compare {
                result: 0,
                ..Default::default()
            })
            .as_deref(),
            Some("3.0.0")
        );
        assert_eq!(
            cmp(e::Compare {
                result: 3,
                ..Default::default()
            })
            .as_deref(),
            Some("3.1.0")
        );
        use e::compare::TargetUnion;
        assert_eq!(
            cmp(e::Compare {
                target_union: Some(TargetUnion::Version(0)),
                ..Default::default()
            })
            .as_deref(),
            Some("3.0.0")
        );
        assert_eq!(
            cmp(e::Compare {
                target_union: Some(TargetUnion::Lease(0)),
                ..Default::default()
            })
            .as_deref(),
            Some("3.3.0")
        );
    }

    /// Go's walk skips a repeated field's elements; it counts cluster requests as 3.5 and the
    /// CORRUPT alarm (an enum value) as 3.3.
    #[test]
    fn repeated_elements_are_not_visited() {
        let n = EntryType::EntryNormal;
        let txn = e::InternalRaftRequest {
            txn: Some(e::TxnRequest {
                compare: vec![e::Compare {
                    target: 4,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(entry(n, txn.encode_to_vec()).as_deref(), Some("3.0.0"));
        let cluster = e::InternalRaftRequest {
            cluster_version_set: Some(m::ClusterVersionSetRequest {
                ver: "3.5.0".into(),
            }),
            ..Default::default()
        };
        let mut v = MinimalVersion::default();
        v.entry(n as i32, &cluster.encode_to_vec()).unwrap();
        assert_eq!(
            v.result().unwrap().by,
            "etcdserverpb.InternalRaftRequest.cluster_version_set"
        );
        let alarm = e::InternalRaftRequest {
            alarm: Some(e::AlarmRequest {
                action: 1,
                member_id: 1,
                alarm: 2,
            }),
            ..Default::default()
        };
        let mut v = MinimalVersion::default();
        v.entry(n as i32, &alarm.encode_to_vec()).unwrap();
        let got = v.result().unwrap();
        assert_eq!(
            (got.version_text().as_str(), got.by.as_str()),
            ("3.3.0", "etcdserverpb.CORRUPT")
        );
    }

    #[test]
    fn v2_requests_carry_no_version() {
        // etcd 3.5's cluster version, as a v2 PUT: not an InternalRaftRequest, a v2 Request.
        let v2 = e::Request {
            id: Some(1),
            method: Some("PUT".into()),
            path: Some("/0/version".into()),
            val: Some("3.5.0".into()),
            ..Default::default()
        };
        assert_eq!(entry(EntryType::EntryNormal, v2.encode_to_vec()), None);
    }

    #[test]
    fn where_go_panics_is_an_error() {
        // Neither an InternalRaftRequest nor a v2 Request: gogo's first error.
        let mut v = MinimalVersion::default();
        let err = v
            .entry(EntryType::EntryNormal as i32, &[0x0a, 0x05, 0x01])
            .unwrap_err();
        assert!(err.starts_with("proto: "), "{err}");
        // An enum number past the declared values.
        let bad = e::InternalRaftRequest {
            alarm: Some(e::AlarmRequest {
                action: 1,
                member_id: 1,
                alarm: 9,
            }),
            ..Default::default()
        };
        let err = v
            .entry(EntryType::EntryNormal as i32, &bad.encode_to_vec())
            .unwrap_err();
        assert_eq!(err, "could not visit EnumNumber [9]");
        assert!(
            v.entry(EntryType::EntryNormal as i32, &downgrade_test("x.y"))
                .is_err()
        );
    }
}
