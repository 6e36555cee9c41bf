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

#[cfg(test)]
mod tests {
    use super::*;

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
