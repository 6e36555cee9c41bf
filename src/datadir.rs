//! Where a member's folders are, given a folder a user points at: the data dir, its `member`
//! folder, or `member/wal` (etcd etcdserver/server.go: `<data-dir>/member/{snap,wal}`). Pure
//! over one [`Storage`] listing, so the CLI, the bindings and the viewer resolve the same way;
//! and the doctor's report over several members, shaped once for all of them.

use crate::doctor::{self, Diagnosis};
use crate::wal::{SegmentName, WalFileKind, names};
use crate::{Result, Storage};

/// What a folder is, relative to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirKind {
    /// A data dir: it holds a `member` folder.
    DataDir,
    /// A `member` folder: it holds `snap` and/or `wal`.
    Member,
    /// A WAL folder: it holds WAL segments (`%016x-%016x.wal`) and no `member`, `snap` or `wal`.
    Wal,
    /// None of these (an empty folder, a snap folder, anything else).
    Unknown,
}

/// Classifies a folder from its entries (`name`, is a directory).
pub fn classify_entries<'a>(entries: impl IntoIterator<Item = (&'a str, bool)>) -> DirKind {
    let (mut member, mut sub, mut segments) = (false, false, false);
    for (name, is_dir) in entries {
        match (name, is_dir) {
            ("member", true) => member = true,
            ("snap" | "wal", true) => sub = true,
            (n, false) => {
                segments |= matches!(names::classify(n), WalFileKind::Segment(SegmentName { .. }))
            }
            _ => {}
        }
    }
    if member {
        DirKind::DataDir
    } else if sub {
        DirKind::Member
    } else if segments {
        DirKind::Wal
    } else {
        DirKind::Unknown
    }
}

/// Classifies the folder `dir` (lists it and stats the names that may be folders).
pub async fn classify<S: Storage>(dir: &S) -> Result<DirKind> {
    let names = dir.list().await?;
    let mut entries = Vec::with_capacity(names.len());
    for n in &names {
        let is_dir = if matches!(n.as_str(), "member" | "snap" | "wal") {
            dir.stat(n).await.is_ok_and(|m| m.is_dir)
        } else {
            false
        };
        entries.push((n.as_str(), is_dir));
    }
    Ok(classify_entries(entries))
}

/// The doctor's JSON document, as `etcd-snap doctor -w json` prints it and `doctor()` in the
/// npm package returns it: every member's diagnosis with its `data_dir` and `summary`, and
/// [`choose_member`](doctor::choose_member)'s recommendation when there are several.
pub fn doctor_report(
    members: &[(String, Diagnosis)],
    rec: Option<&doctor::Recommendation>,
) -> serde_json::Value {
    let list: Vec<serde_json::Value> = members
        .iter()
        .map(|(dir, d)| {
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("data_dir".into(), dir.clone().into());
                o.insert("summary".into(), d.summary().into());
            }
            v
        })
        .collect();
    serde_json::json!({
        "members": list,
        "recommendation": rec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(classify_entries([("member", true)]), DirKind::DataDir);
        assert_eq!(classify_entries([("member", false)]), DirKind::Unknown);
        assert_eq!(
            classify_entries([("snap", true), ("wal", true)]),
            DirKind::Member
        );
        assert_eq!(
            classify_entries([("0000000000000000-0000000000000000.wal", false)]),
            DirKind::Wal
        );
        assert_eq!(classify_entries([("db", false)]), DirKind::Unknown);
    }
}
