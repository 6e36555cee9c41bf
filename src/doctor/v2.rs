//! The two things bootstrap asks of the snapshot's v2 store: does `st.Recovery` take the JSON
//! (etcd etcdserver/api/v2store/store.go `Recovery`: `json.Unmarshal` into the store), and
//! which cluster version it holds (etcd etcdserver/api/membership/store.go
//! `clusterVersionFromStore`: `/0/version`). Only what Go would check is checked: member
//! attributes inside values are parsed later by etcd, not here.

use serde_json::Value;

/// `json.Unmarshal`'s error on `data`, in Go's words where the cause is the common one (the
/// JSON ends early); `None` when Go takes it.
pub(super) fn recovery_error(data: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Object(_)) => None,
        Ok(other) => Some(format!(
            "json: cannot unmarshal {} into Go value of type v2store.store",
            go_kind(&other)
        )),
        Err(e) if e.is_eof() => Some("unexpected end of JSON input".to_owned()),
        Err(e) => Some(e.to_string()),
    }
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The major version of `/0/version`, if the store holds one.
pub(super) fn cluster_major(data: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(data).ok()?;
    let s = v["Root"]["Children"]["0"]["Children"]["version"]["Value"].as_str()?;
    semver::Version::parse(s).ok().map(|v| v.major)
}

/// What etcd 3.6 does with a v2 request it replays (v3.6.9 server/etcdserver/apply_v2.go:30,
/// `v2ToV3Request`, reached from `applyEntryNormal` for every applied entry, server.go:1977):
/// a `PUT` of `/0/version` or of a path matching `/0/members/<1–16 hex>/attributes`
/// (`regexp.MatchString`, so anywhere in the path) becomes its v3 request; anything else
/// panics. `None`: 3.6 converts it; `Some(words)`: why 3.6 panics.
pub(super) fn refused_by_36(method: &str, path: &str, val: &str) -> Option<String> {
    const DISALLOWED: &str = "detected disallowed v2 WAL for stage --v2-deprecation=write-only";
    let attributes = member_attributes_match(path);
    if method != "PUT" || (!attributes && path != "/0/version") {
        return Some(format!("{DISALLOWED} (method {method}, path {path:?})"));
    }
    if attributes {
        // membership.MustParseMemberIDFromKey(path.Dir(r.Path)): the base must be hex.
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let base = dir.rsplit('/').next().unwrap_or_default();
        if u64::from_str_radix(base, 16).is_err() || base.starts_with('+') {
            return Some(format!(
                "failed to parse member id from key (path {path:?})"
            ));
        }
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Attributes {
            name: Option<String>,
            #[serde(rename = "clientURLs")]
            client_urls: Option<Vec<String>>,
        }
        if let Err(e) = serde_json::from_str::<Attributes>(val) {
            return Some(format!("failed to unmarshal (value {val:?}): {e}"));
        }
    }
    None
}

/// `/0/members/[[:xdigit:]]{1,16}/attributes` anywhere in `path`.
fn member_attributes_match(path: &str) -> bool {
    const HEAD: &str = "/0/members/";
    path.match_indices(HEAD).any(|(i, _)| {
        let rest = &path[i + HEAD.len()..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        // The regexp may take fewer digits only if "/attributes" follows them; digits are
        // never '/', so the run must end exactly there.
        (1..=16).contains(&hex) && rest[hex..].starts_with("/attributes")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_36_refuses_to_replay() {
        let attrs = r#"{"name":"m1","clientURLs":["http://a:2379"]}"#;
        assert_eq!(refused_by_36("PUT", "/0/version", "3.5.0"), None);
        assert_eq!(
            refused_by_36("PUT", "/0/members/8e9e05c52164694d/attributes", attrs),
            None
        );
        // MatchString finds the pattern anywhere.
        assert_eq!(
            refused_by_36("PUT", "/x/0/members/ab/attributes", attrs),
            None
        );
        for (m, p) in [
            ("DELETE", "/0/version"),
            ("PUT", "/1/foo"),
            ("POST", "/0/members/ab/attributes"),
            ("PUT", "/0/members/ab/raftAttributes"),
            ("PUT", "/0/members/12345678901234567/attributes"),
        ] {
            let why = refused_by_36(m, p, attrs).unwrap();
            assert!(
                why.starts_with("detected disallowed v2 WAL for stage --v2-deprecation=write-only"),
                "{m} {p}: {why}"
            );
        }
        let nested = refused_by_36("PUT", "/0/members/ab/attributes/x/y", "{}").unwrap();
        assert!(
            nested.starts_with("failed to parse member id from key"),
            "{nested}"
        );
        assert!(
            refused_by_36("PUT", "/0/members/ab/attributes", "nope")
                .unwrap()
                .starts_with("failed to unmarshal")
        );
    }

    #[test]
    fn go_takes_any_object_and_reads_the_version() {
        assert_eq!(recovery_error(br#"{"Root":{}}"#), None);
        assert_eq!(
            recovery_error(b"{\"Root\":"),
            Some("unexpected end of JSON input".into())
        );
        assert!(
            recovery_error(b"[1]")
                .unwrap()
                .contains("cannot unmarshal array")
        );
        let with = br#"{"Root":{"Children":{"0":{"Children":{"version":{"Value":"3.5.0"}}}}}}"#;
        assert_eq!(cluster_major(with), Some(3));
        assert_eq!(cluster_major(br#"{"Root":{}}"#), None);
    }
}
