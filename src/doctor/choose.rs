//! Which member of one cluster to recover from (etcd#20217): the one that holds the most
//! committed history. Raft's own rule for who may lead is the newest log (etcd
//! raft/raft.go `isUpToDate`: last term, then last index); for recovery what counts is what was
//! committed and applied, so the members are ranked by HardState commit, then term, then the
//! mvcc revision after replay, then the db's consistent index. Members of another cluster ID
//! than the majority's are left out, and a member etcd would not start ranks below every one
//! that starts.

use serde::Serialize;

use super::{Diagnosis, Revision, Verdict};

/// One member's place in the ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    /// The name given.
    pub name: String,
    /// Whether etcd starts on it.
    pub starts: bool,
    /// HardState commit.
    pub commit: u64,
    /// HardState term.
    pub term: u64,
    /// Revision after replay, when known.
    pub revision: Option<i64>,
    /// The db's consistent index.
    pub consistent_index: u64,
    /// Cluster ID (hex).
    pub cluster_id: Option<String>,
}

/// The advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    /// The member to recover from (`None`: no member has a readable WAL).
    pub member: Option<String>,
    /// Why, in sentences.
    pub reasons: Vec<String>,
    /// Every member considered, best first.
    pub ranking: Vec<Ranked>,
    /// Members left out, with the reason.
    pub excluded: Vec<(String, String)>,
}

fn ranked(name: &str, d: &Diagnosis) -> Ranked {
    let (starts, revision, ci) = match &d.verdict {
        Verdict::Starts(s) => (
            true,
            match s.revision {
                Revision::Known(r) => Some(r),
                Revision::Unknown(_) => None,
            },
            s.consistent_index,
        ),
        _ => (
            false,
            d.facts.db.as_ref().map(|f| f.revision),
            d.facts.db.as_ref().map_or(0, |f| f.consistent_index),
        ),
    };
    Ranked {
        name: name.to_owned(),
        starts,
        commit: d.facts.commit.unwrap_or(0),
        term: d.facts.term.unwrap_or(0),
        revision,
        consistent_index: ci,
        cluster_id: d.facts.cluster_id.map(|c| format!("{c:x}")),
    }
}

/// Picks the member to recover from among the members of one cluster.
pub fn choose_member(members: &[(String, Diagnosis)]) -> Recommendation {
    let mut all: Vec<Ranked> = members.iter().map(|(n, d)| ranked(n, d)).collect();
    // The cluster ID most members report.
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in &all {
        if let Some(c) = &r.cluster_id {
            match counts.iter_mut().find(|(x, _)| x == c) {
                Some((_, n)) => *n += 1,
                None => counts.push((c.clone(), 1)),
            }
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let cluster = counts.first().map(|(c, _)| c.clone());
    let mut excluded = Vec::new();
    all.retain(|r| match (&r.cluster_id, &cluster) {
        (None, _) => {
            excluded.push((
                r.name.clone(),
                "no readable WAL metadata (cluster ID unknown)".to_owned(),
            ));
            false
        }
        (Some(c), Some(want)) if c != want => {
            excluded.push((
                r.name.clone(),
                format!("cluster ID {c}, not the majority's {want}"),
            ));
            false
        }
        _ => true,
    });
    all.sort_by(|a, b| {
        (
            b.starts,
            b.commit,
            b.term,
            b.revision.unwrap_or(i64::MIN),
            b.consistent_index,
        )
            .cmp(&(
                a.starts,
                a.commit,
                a.term,
                a.revision.unwrap_or(i64::MIN),
                a.consistent_index,
            ))
    });
    let mut reasons = Vec::new();
    let member = all.first().map(|best| {
        reasons.push(format!(
            "{} has the highest committed index {} (term {}){}",
            best.name,
            best.commit,
            best.term,
            if best.starts {
                " and etcd starts on it"
            } else {
                ", although etcd would not start on it as it is"
            }
        ));
        if let Some(r) = best.revision {
            reasons.push(format!(
                "its mvcc revision after replay is {r}, consistent index {}",
                best.consistent_index
            ));
        }
        if let Some(next) = all.get(1) {
            reasons.push(format!(
                "next best: {} (commit {}, term {}, revision {})",
                next.name,
                next.commit,
                next.term,
                next.revision
                    .map_or("unknown".to_owned(), |r| r.to_string())
            ));
        }
        best.name.clone()
    });
    Recommendation {
        member,
        reasons,
        ranking: all,
        excluded,
    }
}
