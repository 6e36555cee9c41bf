//! Which requests reach the snapshot handler: the path of a request target, and Go's
//! `http.NotFound` reply (`404 page not found`) for every other path, shared by the native
//! server and the `node:http` listener.

use crate::error::Error;
use crate::transport::peer::SNAPSHOT_PATH;
use crate::transport::receive::Reply;

/// The path of a request target: origin-form (`/raft/snapshot?x`) or absolute-form
/// (`http://host/raft/snapshot`), without its query.
pub fn target_path(target: &str) -> &str {
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    target.split('?').next().unwrap_or_default()
}

/// True for the one path etcd mounts the snapshot handler on.
pub fn is_snapshot_path(path: &str) -> bool {
    path == SNAPSHOT_PATH
}

/// Go's `http.NotFound` for a request to `path` (any path but [`SNAPSHOT_PATH`]).
pub fn not_found(path: &str) -> Reply {
    Reply::error(
        Vec::new(),
        404,
        "404 page not found".into(),
        Error::InvalidArgument(format!("no handler for {path}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_as_go_does() {
        assert_eq!(target_path("/raft/snapshot"), "/raft/snapshot");
        assert_eq!(target_path("/raft/snapshot?x=1"), "/raft/snapshot");
        assert_eq!(target_path("http://h:2380/raft/snapshot"), "/raft/snapshot");
        assert_eq!(target_path("http://h:2380"), "/");
        assert!(is_snapshot_path(target_path("http://h/raft/snapshot?a")));
        assert!(!is_snapshot_path("/raft/snapshot/"));
        let r = not_found("/x");
        assert_eq!(r.status, 404);
        assert_eq!(r.body, "404 page not found\n");
        assert_eq!(
            r.headers,
            vec![
                ("Content-Type", "text/plain; charset=utf-8".to_string()),
                ("X-Content-Type-Options", "nosniff".to_string()),
            ]
        );
        assert_eq!(r.outcome.unwrap_err().to_string(), "no handler for /x");
    }
}
