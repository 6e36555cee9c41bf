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

/// Which version of etcd's `membership.IsMetaStoreOnly` (the test behind 3.5's
/// `detected custom v2store content` warning, 3.6's refusal to start and `etcdutl check
/// v2store`) is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaOnlyRule {
    /// etcd v3.5.16–v3.5.21 and v3.6.0–v3.6.3 (v3.5.16
    /// server/etcdserver/api/membership/storev2.go:24): any top-level node but `/0` with
    /// children is custom content.
    Strict,
    /// etcd v3.5.22+ and v3.6.4+ (v3.6.9 server/etcdserver/api/membership/storev2.go:45,
    /// etcd PR "Fix v2store check returning wrong result even there isn't any auth data"):
    /// `/2` (v2 auth) counts only if one of its children has children, so the skeleton
    /// `/2/{enabled,roles,users}` left after removing every user and role is not content.
    AuthSkeleton,
}

/// A top-level v2 store node that `IsMetaStoreOnly` counts as custom content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomNode {
    /// Its `Path` (`/1` is the v2 keyspace, `/2` v2 auth).
    pub path: String,
    /// Its visible children (`Get` hides names starting with `_`).
    pub children: u64,
}

/// Visible children, as `store.Get("/", true, false)` lists them (etcd v3.5.16
/// server/etcdserver/api/v2store/node.go:279: hidden nodes skipped; a node is a directory
/// when its `Children` is not null). Go's `IsHidden` indexes the last path element's first
/// byte and panics on an empty one: that is an error here.
fn visible(n: &Node) -> Result<Vec<&Node>> {
    let mut out = Vec::new();
    for c in n.children.iter().flat_map(|c| c.values()) {
        let name = c.path.rsplit('/').next().unwrap_or_default();
        match name.as_bytes().first() {
            None => {
                return Err(bad(format!(
                    "node path {:?} has an empty name (etcd panics: index out of range)",
                    c.path
                )));
            }
            Some(b'_') => {}
            Some(_) => out.push(c),
        }
    }
    Ok(out)
}

/// What `membership.IsMetaStoreOnly` finds in the v2 store JSON of a snapshot: the top-level
/// nodes holding custom content (empty when the store holds only membership and version).
/// JSON etcd's `Recovery` refuses is an error.
pub fn custom_content(data: &[u8], rule: MetaOnlyRule) -> Result<Vec<CustomNode>> {
    let store: Store =
        serde_json::from_slice(data).map_err(|e| bad(format!("not v2 store JSON: {e}")))?;
    let mut out = Vec::new();
    for n in visible(&store.root)? {
        if n.path == "/0" {
            continue;
        }
        let kids = visible(n)?;
        let custom = if rule == MetaOnlyRule::AuthSkeleton && n.path == "/2" {
            let mut any = false;
            for k in &kids {
                any |= !visible(k)?.is_empty();
            }
            any
        } else {
            !kids.is_empty()
        };
        if custom {
            out.push(CustomNode {
                path: n.path.clone(),
                children: kids.len() as u64,
            });
        }
    }
    Ok(out)
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

    /// The cases of etcd's `TestIsMetaStoreOnly` / `TestIsMetaStoreOnlyWithAuthData` (v3.6.9
    /// server/etcdserver/api/membership/storev2_test.go), as the v2 store's JSON, with both rules.
    #[test]
    fn meta_only_rules() {
        let store = |root: &str| format!(r#"{{"Root":{{"Path":"/","Children":{{{root}}}}}}}"#);
        let zero = r#""0":{"Path":"/0","Children":{"members":{"Path":"/0/members","Children":{}},"version":{"Path":"/0/version","Value":"3.5.0"}}}"#;
        let paths = |root: &str, rule| {
            custom_content(store(root).as_bytes(), rule)
                .unwrap()
                .into_iter()
                .map(|c| c.path)
                .collect::<Vec<_>>()
        };
        use MetaOnlyRule::{AuthSkeleton, Strict};
        // Membership only, an empty keyspace dir, a top-level file: meta only.
        let empty_one = format!(
            r#"{zero},"1":{{"Path":"/1","Children":{{}}}},"f":{{"Path":"/f","Value":"x"}}"#
        );
        assert!(paths(&empty_one, Strict).is_empty());
        // A v2 key, even under a hidden name's sibling, is content; hidden ones are not.
        let key = format!(
            r#"{zero},"1":{{"Path":"/1","Children":{{"foo":{{"Path":"/1/foo","Value":"bar"}}}}}}"#
        );
        assert_eq!(paths(&key, Strict), ["/1"]);
        assert_eq!(paths(&key, AuthSkeleton), ["/1"]);
        let hidden = format!(
            r#"{zero},"1":{{"Path":"/1","Children":{{"_h":{{"Path":"/1/_h","Value":"x"}}}}}}"#
        );
        assert!(paths(&hidden, Strict).is_empty());
        // The auth skeleton: content before v3.5.22 / v3.6.4, not after; a user is content.
        let skeleton = format!(
            r#"{zero},"2":{{"Path":"/2","Children":{{"enabled":{{"Path":"/2/enabled","Value":"false"}},"roles":{{"Path":"/2/roles","Children":{{}}}},"users":{{"Path":"/2/users","Children":{{}}}}}}}}"#
        );
        assert_eq!(paths(&skeleton, Strict), ["/2"]);
        assert!(paths(&skeleton, AuthSkeleton).is_empty());
        let user = skeleton.replace(
            r#""users":{"Path":"/2/users","Children":{}}"#,
            r#""users":{"Path":"/2/users","Children":{"root":{"Path":"/2/users/root","Value":"{}"}}}"#,
        );
        assert_eq!(paths(&user, AuthSkeleton), ["/2"]);
        // Go panics on an empty name; JSON Recovery refuses is an error too.
        let empty_name = format!(r#"{zero},"x":{{"Path":"/x/","Value":""}}"#);
        assert!(custom_content(store(&empty_name).as_bytes(), Strict).is_err());
        assert!(custom_content(b"{", Strict).is_err());
    }

    #[test]
    fn hostile_json_is_an_error() {
        assert!(parse(b"{").is_err());
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
        assert!(parse(br#"{"Root":{"Children":{"0":{"Children":{"members":{"Children":{"1":{"Children":{"raftAttributes":{"Value":"nope"}}}}}}}}}}"#).is_err());
    }
}
