//! Which etcd's storage schema a db has, by etcd 3.6's own rules
//! (`server/storage/schema/schema.go:85-112` and `version.go:24-55` at v3.6.0), and so
//! which `snapshot status` semantics ([`Compat`]) the etcd that wrote it prints.
//!
//! - etcd 3.6+ writes `meta/storageVersion` (`"3.6.0"`; `UnsafeSetStorageVersion`, version.go:59-62).
//! - Without it, `UnsafeDetectSchemaVersion` takes a db for 3.5 when `meta/confState` exists
//!   and `meta/term` is non-zero (schema.go:103-111), else fails ("missing confstate
//!   information", "missing term information"): 3.4 or older, or a 3.5 member that has not
//!   applied a conf change yet.

use std::ops::ControlFlow;

use serde::Serialize;

use super::bbolt::Bolt;
use super::source::PageSource;
use crate::error::Result;

/// Whose `snapshot status` numbers to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Compat {
    /// etcd 3.4's `etcdctl snapshot status`: `totalKey` counts every entry of every bucket.
    V3_4,
    /// etcd 3.5's `etcdutl snapshot status`: the same numbers and shape as 3.4.
    V3_5,
    /// etcd 3.6's `etcdutl snapshot status` (etcdutl/snapshot/v3_snapshot.go:117-200 at
    /// v3.6.0, commit 2d377000f): `totalKey` counts distinct live user keys, and a `version`
    /// field carries `meta/storageVersion` ("" when absent).
    V3_6,
}

impl Compat {
    /// `"3.4"`, `"3.5"`, `"3.6"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compat::V3_4 => "3.4",
            Compat::V3_5 => "3.5",
            Compat::V3_6 => "3.6",
        }
    }

    /// The semantics of etcd `major.minor`: the newest known for later versions.
    pub fn of_version(major: i64, minor: i64) -> Compat {
        match (major, minor) {
            (3, 5) => Compat::V3_5,
            (3, m) if m >= 6 => Compat::V3_6,
            (m, _) if m > 3 => Compat::V3_6,
            _ => Compat::V3_4,
        }
    }
}

impl std::str::FromStr for Compat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "3.4" => Ok(Compat::V3_4),
            "3.5" => Ok(Compat::V3_5),
            "3.6" => Ok(Compat::V3_6),
            _ => Err(format!("unknown etcd version {s:?} (3.4, 3.5 or 3.6)")),
        }
    }
}

/// What a db says of the etcd that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaVersion {
    /// `meta/storageVersion` as etcdutl 3.6 prints it (`ReadStorageVersionFromSnapshot`,
    /// version.go:48-55: go-semver's `String()`), `None` when absent or not a go-semver.
    pub storage_version: Option<String>,
    /// `UnsafeDetectSchemaVersion`'s answer (`"3.6.0"`, `"3.5.0"`), or `None` when it fails.
    pub detected: Option<String>,
    /// Its error when it fails.
    pub detect_error: Option<&'static str>,
    /// The semantics of the detected version; [`Compat::V3_4`] when detection fails.
    #[serde(serialize_with = "ser_compat")]
    pub compat: Compat,
}

fn ser_compat<S: serde::Serializer>(c: &Compat, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

/// Reads the `meta` bucket keys the detection needs (no other meta key is parsed, so a
/// damaged compaction revision does not hide the version).
pub fn schema_version<S: PageSource>(db: &Bolt<S>) -> Result<SchemaVersion> {
    let mut storage = None;
    let mut conf_state = false;
    let mut consistent_index = false;
    let mut term = None;
    if let Some(meta) = db.bucket(&db.root(), b"meta")? {
        db.walk(&meta, None, &mut |e| {
            if !e.is_bucket {
                match e.key {
                    b"storageVersion" => storage = Some(e.value.to_vec()),
                    b"confState" => conf_state = true,
                    b"consistent_index" => consistent_index = true,
                    b"term" => term = Some(e.value.to_vec()),
                    _ => {}
                }
            }
            Ok(ControlFlow::Continue(()))
        })?;
    }
    let parsed = storage
        .as_deref()
        .and_then(|v| GoSemver::parse(&String::from_utf8_lossy(v)));
    let (detected, detect_error, compat) = if let Some(v) = &parsed {
        (
            Some(v.to_string()),
            None,
            Compat::of_version(v.major, v.minor),
        )
    } else if !conf_state {
        (None, Some("missing confstate information"), Compat::V3_4)
    } else {
        // cindex.go:40-52: no consistent_index reads as term 0; etcd panics on a term
        // shorter than 8 bytes (binary.BigEndian.Uint64), taken here as missing.
        let t = term
            .filter(|_| consistent_index)
            .and_then(|t| {
                t.get(..8)
                    .map(|b| u64::from_be_bytes(b.try_into().expect("8")))
            })
            .unwrap_or(0);
        if t == 0 {
            (None, Some("missing term information"), Compat::V3_4)
        } else {
            (Some("3.5.0".to_owned()), None, Compat::V3_5)
        }
    };
    Ok(SchemaVersion {
        storage_version: parsed.map(|v| v.to_string()),
        detected,
        detect_error,
        compat,
    })
}

/// A version as github.com/coreos/go-semver parses it (`Version.Set`, semver.go:71-104 in
/// v0.3.0): laxer than SemVer 2.0 (`strconv.ParseInt` takes `+3`, `-1`, `03`), so the semver
/// crate would reject what etcd accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoSemver {
    /// Major.
    pub major: i64,
    /// Minor.
    pub minor: i64,
    /// Patch.
    pub patch: i64,
    /// After the first `-` (before any `+`).
    pub pre_release: String,
    /// After the first `+`.
    pub metadata: String,
}

impl GoSemver {
    /// `semver.NewVersion`; `None` where it returns an error.
    pub fn parse(s: &str) -> Option<GoSemver> {
        let (rest, metadata) = s.split_once('+').unwrap_or((s, ""));
        let (rest, pre) = rest.split_once('-').unwrap_or((rest, ""));
        let parts: Vec<&str> = rest.splitn(3, '.').collect();
        if parts.len() != 3 || !identifier(pre) || !identifier(metadata) {
            return None;
        }
        // i64::from_str accepts exactly what strconv.ParseInt(s, 10, 64) does.
        let n = |i: usize| parts[i].parse::<i64>().ok();
        Some(GoSemver {
            major: n(0)?,
            minor: n(1)?,
            patch: n(2)?,
            pre_release: pre.to_owned(),
            metadata: metadata.to_owned(),
        })
    }
}

/// `validateIdentifier`: empty, or `^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$`.
fn identifier(id: &str) -> bool {
    id.is_empty()
        || id
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl std::fmt::Display for GoSemver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre_release.is_empty() {
            write!(f, "-{}", self.pre_release)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Compat, GoSemver};

    /// Vectors from go-semver's own parser (`semver.NewVersion(s).String()`, checked with
    /// /usr/share/gocode's github.com/coreos/go-semver).
    #[test]
    fn go_semver_like_go() {
        let p = |s: &str| GoSemver::parse(s).map(|v| v.to_string());
        assert_eq!(p("3.6.0").as_deref(), Some("3.6.0"));
        assert_eq!(p("03.6.0").as_deref(), Some("3.6.0"));
        assert_eq!(p("1.2.3-a.b+x-y").as_deref(), Some("1.2.3-a.b+x-y"));
        assert_eq!(p("3.6"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("v3.6.0"), None);
        assert_eq!(p("1.2.3.4"), None);
        assert_eq!(p("1.2.3-"), Some("1.2.3".to_owned()));
        assert_eq!(p("1.2.3-a..b"), None);
        assert_eq!(p("1.2.3-a_b"), None);
        assert_eq!(p("+3.6.0"), None);
        assert_eq!(p("3.+6.0"), None);
    }

    #[test]
    fn compat_of_versions() {
        assert_eq!(Compat::of_version(3, 4), Compat::V3_4);
        assert_eq!(Compat::of_version(3, 5), Compat::V3_5);
        assert_eq!(Compat::of_version(3, 6), Compat::V3_6);
        assert_eq!(Compat::of_version(3, 7), Compat::V3_6);
        assert_eq!(Compat::of_version(2, 3), Compat::V3_4);
        assert_eq!("3.6".parse::<Compat>(), Ok(Compat::V3_6));
        assert!("3.7".parse::<Compat>().is_err());
    }
}
