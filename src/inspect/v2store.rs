//! The v2 store JSON that etcd 3.4 puts in `raftpb.Snapshot.Data`: members (under
//! `/0/members/<id>/{raftAttributes,attributes}`), removed members (`/0/removed_members`),
//! the cluster version (`/0/version`) and the v2 keyspace (`/1`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
struct Store {
    #[serde(rename = "Root")]
    root: Node,
    #[serde(rename = "CurrentIndex", default)]
    current_index: u64,
    #[serde(rename = "CurrentVersion", default)]
    current_version: u64,
}

#[derive(Debug, Deserialize)]
struct Node {
    #[serde(rename = "Path", default)]
    path: String,
    #[serde(rename = "Value", default)]
    value: String,
    #[serde(rename = "Children", default)]
    children: Option<BTreeMap<String, Node>>,
}

/// A cluster member as the v2 store (and the `members` bucket) records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Member id in hex, as etcd prints it.
    pub id: String,
    /// Member name (empty until the member has published its attributes).
    #[serde(default)]
    pub name: String,
    /// Peer URLs.
    #[serde(rename = "peerURLs", default)]
    pub peer_urls: Vec<String>,
    /// Client URLs.
    #[serde(rename = "clientURLs", default)]
    pub client_urls: Vec<String>,
    /// Raft learner.
    #[serde(rename = "isLearner", default)]
    pub is_learner: bool,
}

/// What the v2 store JSON says about the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct V2Store {
    /// Members, in key order (by hex id string).
    pub members: Vec<Member>,
    /// Ids (hex) of removed members.
    pub removed_members: Vec<String>,
    /// `/0/version`, if set.
    pub cluster_version: Option<String>,
    /// The store's `CurrentIndex`.
    pub current_index: u64,
    /// The store's `CurrentVersion` (format version).
    pub current_version: u64,
    /// Leaf nodes in the v2 keyspace (`/1`).
    pub v2_keys: u64,
}

#[derive(Deserialize, Default)]
struct RaftAttrs {
    #[serde(rename = "peerURLs", default)]
    peer_urls: Vec<String>,
    #[serde(rename = "isLearner", default)]
    is_learner: bool,
}

#[derive(Deserialize, Default)]
struct Attrs {
    #[serde(default)]
    name: String,
    #[serde(rename = "clientURLs", default)]
    client_urls: Vec<String>,
}

fn bad(problem: String) -> Error {
    Error::InvalidArgument(format!("v2 store: {problem}"))
}

fn children(n: &Node) -> impl Iterator<Item = (&String, &Node)> {
    n.children.iter().flat_map(|c| c.iter())
}

fn child<'n>(n: &'n Node, name: &str) -> Option<&'n Node> {
    n.children.as_ref()?.get(name)
}

fn count_leaves(n: &Node, budget: &mut u64) -> u64 {
    match &n.children {
        Some(c) if *budget > 0 => {
            *budget -= 1;
            c.values().map(|n| count_leaves(n, budget)).sum()
        }
        Some(_) => 0,
        None => 1,
    }
}

/// Parses the v2 store JSON of a `.snap` file's data. serde_json bounds nesting (128), so
/// hostile JSON fails cleanly.
pub fn parse(data: &[u8]) -> Result<V2Store> {
    let store: Store =
        serde_json::from_slice(data).map_err(|e| bad(format!("not v2 store JSON: {e}")))?;
    let mut out = V2Store {
        current_index: store.current_index,
        current_version: store.current_version,
        ..Default::default()
    };
    let zero = child(&store.root, "0");
    if let Some(members) = zero.and_then(|z| child(z, "members")) {
        for (id, node) in children(members) {
            let mut m = Member {
                id: id.clone(),
                ..Default::default()
            };
            if let Some(ra) = child(node, "raftAttributes") {
                let ra: RaftAttrs = serde_json::from_str(&ra.value)
                    .map_err(|e| bad(format!("{}: {e}", ra.path)))?;
                m.peer_urls = ra.peer_urls;
                m.is_learner = ra.is_learner;
            }
            if let Some(a) = child(node, "attributes") {
                let a: Attrs =
                    serde_json::from_str(&a.value).map_err(|e| bad(format!("{}: {e}", a.path)))?;
                m.name = a.name;
                m.client_urls = a.client_urls;
            }
            out.members.push(m);
        }
    }
    if let Some(removed) = zero.and_then(|z| child(z, "removed_members")) {
        out.removed_members = children(removed).map(|(id, _)| id.clone()).collect();
    }
    out.cluster_version = zero
        .and_then(|z| child(z, "version"))
        .map(|v| v.value.clone());
    if let Some(one) = child(&store.root, "1") {
        let mut budget = 1_000_000;
        out.v2_keys = children(one)
            .map(|(_, n)| count_leaves(n, &mut budget))
            .sum();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_json_is_an_error() {
        assert!(parse(b"{").is_err());
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
        assert!(parse(br#"{"Root":{"Children":{"0":{"Children":{"members":{"Children":{"1":{"Children":{"raftAttributes":{"Value":"nope"}}}}}}}}}}"#).is_err());
    }
}
