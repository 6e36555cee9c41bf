//! What rafthttp peers check and send besides the body: the request headers of the snapshot
//! sender, the receiver's version and cluster-ID rules, and the sender's reading of the reply.

use crate::error::{Error, Result};

/// The exact path etcd mounts the snapshot handler on.
pub const SNAPSHOT_PATH: &str = "/raft/snapshot";

/// etcd's `types.ID.String()`: lowercase hex, no padding.
pub fn format_id(id: u64) -> String {
    format!("{id:x}")
}

/// Parses a member or cluster ID as etcd prints it (hex, optional `0x`).
pub fn parse_id(s: &str) -> Result<u64> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16).map_err(|_| Error::InvalidArgument(format!("invalid hex ID {s:?}")))
}

/// Headers etcd's sender puts on `POST /raft/snapshot` (etcd etcdserver/api/rafthttp/util.go:63).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderHeaders {
    /// Local member ID (`X-Server-From`).
    pub from: u64,
    /// Cluster ID (`X-Etcd-Cluster-ID`).
    pub cluster_id: u64,
    /// `X-Server-Version`.
    pub server_version: String,
    /// `X-Min-Cluster-Version`.
    pub min_cluster_version: String,
    /// Local peer URLs (`X-PeerURLs`), sent only when not empty.
    pub peer_urls: Vec<String>,
}

impl SenderHeaders {
    /// Headers of an etcd 3.4.23 member with no peer URLs.
    pub fn new(from: u64, cluster_id: u64) -> Self {
        SenderHeaders {
            from,
            cluster_id,
            server_version: "3.4.23".into(),
            min_cluster_version: "3.0.0".into(),
            peer_urls: Vec::new(),
        }
    }

    /// Name/value pairs in the order etcd sets them.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("Content-Type", "application/octet-stream".to_string()),
            ("X-Server-From", format_id(self.from)),
            ("X-Server-Version", self.server_version.clone()),
            ("X-Min-Cluster-Version", self.min_cluster_version.clone()),
            ("X-Etcd-Cluster-ID", format_id(self.cluster_id)),
        ];
        if !self.peer_urls.is_empty() {
            h.push(("X-PeerURLs", self.peer_urls.join(",")));
        }
        h
    }
}

/// Who the receiver claims to be, for the compatibility checks of etcd's snapshot handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPeer {
    /// The cluster ID a request must name exactly.
    pub cluster_id: u64,
    /// Local server version (default `3.4.23`).
    pub server_version: semver::Version,
    /// Local minimum cluster version (default `3.0.0`).
    pub min_cluster_version: semver::Version,
}

impl LocalPeer {
    /// An etcd 3.4.23 member of `cluster_id`.
    pub fn new(cluster_id: u64) -> Self {
        LocalPeer {
            cluster_id,
            server_version: semver::Version::new(3, 4, 23),
            min_cluster_version: semver::Version::new(3, 0, 0),
        }
    }

    /// etcd's `checkClusterCompatibilityFromHeader`: a missing version header counts as
    /// `2.0.0`; a remote server below the local minimum, or a remote minimum above the local
    /// version (major.minor only), is [`Error::IncompatibleVersion`]; then the cluster ID must
    /// equal the local one as etcd prints it, else [`Error::ClusterIdMismatch`].
    ///
    /// **Differs from etcd:** a version header that is not semver is `IncompatibleVersion`
    /// (etcd 3.4 panics in the handler and the client sees the connection drop).
    pub fn check_headers(
        &self,
        server_version: Option<&str>,
        min_cluster_version: Option<&str>,
        cluster_id: Option<&str>,
    ) -> Result<()> {
        let parse = |v: Option<&str>| match v {
            None | Some("") => Ok(semver::Version::new(2, 0, 0)),
            Some(s) => semver::Version::parse(s).map_err(|_| Error::IncompatibleVersion),
        };
        let remote_server = parse(server_version)?;
        let remote_min = parse(min_cluster_version)?;
        let mm = |v: &semver::Version| (v.major, v.minor);
        if mm(&remote_server) < mm(&self.min_cluster_version)
            || mm(&remote_min) > mm(&self.server_version)
        {
            return Err(Error::IncompatibleVersion);
        }
        if cluster_id != Some(format_id(self.cluster_id).as_str()) {
            return Err(Error::ClusterIdMismatch);
        }
        Ok(())
    }
}

/// rafthttp's `checkPostResponse`: 204 is success; 403, and 412 with etcd's two bodies (one
/// trailing newline trimmed), are etcd's typed errors; everything else, 200 included, is
/// `unexpected http status <text> while posting to "<url>"`.
pub fn check_post_response(status: u16, body: &[u8], url: &str) -> Result<()> {
    match status {
        204 => Ok(()),
        403 => Err(Error::MemberRemoved),
        412 => {
            let text = String::from_utf8_lossy(body);
            let text = text.strip_suffix('\n').unwrap_or(&text);
            match text {
                "incompatible version" => Err(Error::IncompatibleVersion),
                "cluster ID mismatch" => Err(Error::ClusterIdMismatch),
                other => Err(Error::PreconditionFailed(other.to_string())),
            }
        }
        other => Err(Error::HttpStatus {
            status: status_text(other).to_string(),
            url: url.to_string(),
        }),
    }
}

/// Go's `http.StatusText` for the statuses a peer may plausibly answer; `""` otherwise, as Go.
pub fn status_text(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
