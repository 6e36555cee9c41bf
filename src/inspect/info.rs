//! What the other etcd buckets hold: `meta` (consistent index, term, compaction
//! revisions), `members`/`members_removed`/`cluster`, `lease`, `auth`/`authUsers`/`authRoles`
//! and `alarm`; plus per-bucket totals.

use std::ops::ControlFlow;

use prost::Message as _;
use serde::Serialize;

use super::bbolt::check::PageStats;
use super::bbolt::{Bolt, Bucket};
use super::mvcc::Revision;
use super::mvccpb::{AlarmMember, Lease, Role, User};
use super::source::PageSource;
use super::v2store::Member;
use crate::error::{Error, Result};

/// Totals for one top-level bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketInfo {
    /// Bucket name (lossy UTF-8 for display).
    #[serde(serialize_with = "super::ser_lossy")]
    pub name: Vec<u8>,
    /// Entries.
    pub keys: u64,
    /// Bytes of keys.
    pub key_bytes: u64,
    /// Bytes of values.
    pub value_bytes: u64,
    /// Page counts of its tree.
    pub pages: PageStats,
}

/// The `meta` bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MvccMeta {
    /// `consistent_index`: the raft index the db has applied.
    pub consistent_index: Option<u64>,
    /// `term` (etcd 3.5+).
    pub term: Option<u64>,
    /// `scheduledCompactRev`.
    pub scheduled_compact_revision: Option<i64>,
    /// `finishedCompactRev`.
    pub finished_compact_revision: Option<i64>,
    /// `confState` JSON (etcd 3.5+).
    pub conf_state: Option<String>,
    /// `storageVersion` (etcd 3.6+).
    pub storage_version: Option<String>,
}

impl MvccMeta {
    /// The compaction revision reads must respect (the scheduled one wins: etcd finishes
    /// an interrupted compaction on restart).
    pub fn compact_revision(&self) -> i64 {
        self.scheduled_compact_revision
            .unwrap_or(0)
            .max(self.finished_compact_revision.unwrap_or(0))
    }
}

/// etcd's default backend quota, `--quota-backend-bytes` 0 (etcd 3.4
/// etcdserver/quota.go:29 `DefaultQuotaBytes`): when the backend's size (`tx.Size()`, the
/// high water mark) would pass it, etcd raises the NOSPACE alarm.
pub const DEFAULT_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The largest quota etcd recommends (etcdserver/quota.go:32 `MaxQuotaBytes`).
pub const MAX_QUOTA_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// A lease from the `lease` bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseInfo {
    /// Lease id (etcdctl prints it in hex).
    pub id: i64,
    /// Granted TTL in seconds.
    pub ttl: i64,
    /// Checkpointed remaining TTL: etcd 3.4 writes it only with lease checkpointing on
    /// (`--experimental-enable-lease-checkpoint`); 0 means it was not persisted.
    pub remaining_ttl: i64,
}

/// Auth state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthInfo {
    /// `authEnabled`.
    pub enabled: bool,
    /// `authRevision`.
    pub revision: Option<u64>,
    /// Users with their roles (no password hashes).
    pub users: Vec<UserInfo>,
    /// Role names.
    pub roles: Vec<String>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// Name.
    pub name: String,
    /// Granted roles.
    pub roles: Vec<String>,
}

/// An alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmInfo {
    /// Member id in hex.
    pub member_id: String,
    /// `NOSPACE`, `CORRUPT` or the number.
    pub alarm: String,
}

/// Everything the non-key buckets say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterInfo {
    /// The `meta` bucket.
    pub meta: MvccMeta,
    /// `members`, in bucket order (by hex id string).
    pub members: Vec<Member>,
    /// `members_removed` ids (hex).
    pub removed_members: Vec<String>,
    /// `cluster/clusterVersion`.
    pub cluster_version: Option<String>,
    /// `lease`.
    pub leases: Vec<LeaseInfo>,
    /// `auth*`.
    pub auth: AuthInfo,
    /// `alarm`.
    pub alarms: Vec<AlarmInfo>,
}

fn bad(page: u64, what: &str, e: impl std::fmt::Display) -> Error {
    Error::BadDb {
        page: Some(page),
        problem: format!("{what}: {e}"),
    }
}

fn be_u64(v: &[u8]) -> Option<u64> {
    v.get(..8)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8")))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Calls `f(key, value, page)` for every plain entry of top-level bucket `name`, if present.
fn each<S: PageSource>(
    db: &Bolt<S>,
    name: &[u8],
    mut f: impl FnMut(&[u8], &[u8], u64) -> Result<()>,
) -> Result<()> {
    let Some(b) = db.bucket(&db.root(), name)? else {
        return Ok(());
    };
    db.walk(&b, None, &mut |e| {
        if !e.is_bucket {
            f(e.key, e.value, e.page)?;
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(())
}

/// Reads the `meta` bucket.
pub fn mvcc_meta<S: PageSource>(db: &Bolt<S>) -> Result<MvccMeta> {
    let mut m = MvccMeta::default();
    each(db, b"meta", |k, v, page| {
        let rev = || {
            Revision::from_key(v)
                .map(|r| r.main)
                .ok_or_else(|| bad(page, "meta bucket compaction revision", "too short"))
        };
        match k {
            b"consistent_index" => m.consistent_index = be_u64(v),
            b"term" => m.term = be_u64(v),
            b"scheduledCompactRev" => m.scheduled_compact_revision = Some(rev()?),
            b"finishedCompactRev" => m.finished_compact_revision = Some(rev()?),
            b"confState" => m.conf_state = Some(lossy(v)),
            b"storageVersion" => m.storage_version = Some(lossy(v)),
            _ => {}
        }
        Ok(())
    })?;
    Ok(m)
}

#[derive(serde::Deserialize)]
struct MemberJson {
    id: u64,
    #[serde(rename = "peerURLs", default)]
    peer_urls: Vec<String>,
    #[serde(rename = "isLearner", default)]
    is_learner: bool,
    #[serde(default)]
    name: String,
    #[serde(rename = "clientURLs", default)]
    client_urls: Vec<String>,
}

/// Reads every non-key bucket etcd 3.4-3.6 writes.
pub fn cluster_info<S: PageSource>(db: &Bolt<S>) -> Result<ClusterInfo> {
    let mut info = ClusterInfo {
        meta: mvcc_meta(db)?,
        ..Default::default()
    };
    each(db, b"members", |_, v, page| {
        let m: MemberJson = serde_json::from_slice(v).map_err(|e| bad(page, "member", e))?;
        info.members.push(Member {
            id: format!("{:x}", m.id),
            name: m.name,
            peer_urls: m.peer_urls,
            client_urls: m.client_urls,
            is_learner: m.is_learner,
        });
        Ok(())
    })?;
    each(db, b"members_removed", |k, _, _| {
        info.removed_members.push(lossy(k));
        Ok(())
    })?;
    each(db, b"cluster", |k, v, _| {
        if k == b"clusterVersion" {
            info.cluster_version = Some(lossy(v));
        }
        Ok(())
    })?;
    each(db, b"lease", |_, v, page| {
        let l = Lease::decode(v).map_err(|e| bad(page, "lease", e))?;
        info.leases.push(LeaseInfo {
            id: l.id,
            ttl: l.ttl,
            remaining_ttl: l.remaining_ttl,
        });
        Ok(())
    })?;
    each(db, b"auth", |k, v, _| {
        match k {
            b"authEnabled" => info.auth.enabled = v == [1],
            b"authRevision" => info.auth.revision = be_u64(v),
            _ => {}
        }
        Ok(())
    })?;
    each(db, b"authUsers", |_, v, page| {
        let u = User::decode(v).map_err(|e| bad(page, "user", e))?;
        info.auth.users.push(UserInfo {
            name: lossy(&u.name),
            roles: u.roles,
        });
        Ok(())
    })?;
    each(db, b"authRoles", |_, v, page| {
        let r = Role::decode(v).map_err(|e| bad(page, "role", e))?;
        info.auth.roles.push(lossy(&r.name));
        Ok(())
    })?;
    each(db, b"alarm", |k, _, page| {
        let a = AlarmMember::decode(k).map_err(|e| bad(page, "alarm", e))?;
        info.alarms.push(AlarmInfo {
            member_id: format!("{:x}", a.member_id),
            alarm: match a.alarm {
                1 => "NOSPACE".into(),
                2 => "CORRUPT".into(),
                n => n.to_string(),
            },
        });
        Ok(())
    })?;
    Ok(info)
}

/// Totals for every top-level bucket.
pub fn buckets<S: PageSource>(db: &Bolt<S>) -> Result<Vec<BucketInfo>> {
    let root = db.root();
    let mut found: Vec<(Vec<u8>, Bucket)> = Vec::new();
    db.walk(&root, None, &mut |e| {
        if e.is_bucket {
            found.push((e.key.to_vec(), root.child(&e)?));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let mut out = Vec::with_capacity(found.len());
    for (name, b) in found {
        let (mut keys, mut key_bytes, mut value_bytes) = (0u64, 0u64, 0u64);
        db.walk(&b, None, &mut |e| {
            keys += 1;
            key_bytes += e.key.len() as u64;
            value_bytes += e.value.len() as u64;
            Ok(ControlFlow::Continue(()))
        })?;
        out.push(BucketInfo {
            name,
            keys,
            key_bytes,
            value_bytes,
            pages: db.bucket_pages(&b)?,
        });
    }
    Ok(out)
}
