//! What the browser viewer (`www/`) asks of etcd's rules, so none of them is written in JS:
//! the kind of a name, the name `Load` gives an unreadable `.snap`, the `.snap` `Load` would
//! pick from a listing, and etcdctl's `snapshot status -w table` text of a status already
//! computed. Each converts its arguments and delegates to the library.

use js_sys::{Array, JSON};
use wasm_bindgen::prelude::*;

use crate::error::{Error, IoErrorKind};
use crate::inspect::{Status, etcdctl};
use crate::js::util::get;
use crate::{names, snapshotter};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What `loadPick` reads of each entry: `Snapshotter.list()`'s entries qualify. */
export interface LoadPickEntry {
  name: string;
  /** `"ok"`, `Read`'s error message, or null for a name `Load` never reads. */
  verdict: string | null;
  /** The error code when `verdict` is an error. */
  code?: string | null;
}
"#;

fn invalid(msg: String) -> JsValue {
    Error::InvalidArgument(msg).into()
}

/// How etcd's scans and cleanups treat `name` (`names::classify`): the `kind` of
/// `Snapshotter.list()` entries.
#[wasm_bindgen(js_name = nameKind, unchecked_return_type = "FileInfo[\"kind\"]")]
pub fn name_kind(name: &str) -> String {
    names::classify(name).as_str().to_owned()
}

/// `<name>.broken`: what etcd's `Load` renames an unreadable `.snap` to (`names::broken_name`).
#[wasm_bindgen(js_name = brokenName)]
pub fn broken_name(name: &str) -> String {
    names::broken_name(name)
}

/// The name etcd's `Load` would return from `entries` (`Snapshotter.list()`'s, or the same
/// fields with verdicts updated by a later `read`), or null when `Load` would fail. Renames
/// nothing (`snapshotter::load_pick`).
#[wasm_bindgen(js_name = loadPick, unchecked_return_type = "string | null")]
pub fn load_pick(
    #[wasm_bindgen(unchecked_param_type = "LoadPickEntry[]")] entries: JsValue,
) -> Result<JsValue, JsValue> {
    if !Array::is_array(&entries) {
        return Err(invalid("loadPick: expected an array of entries".into()));
    }
    let mut reads: Vec<(String, Result<(), Option<IoErrorKind>>)> = Vec::new();
    for (i, e) in Array::from(&entries).iter().enumerate() {
        let Some(name) = get(&e, "name").as_string() else {
            return Err(invalid(format!(
                "loadPick: entries[{i}].name: expected a string"
            )));
        };
        let verdict = get(&e, "verdict");
        let read = match verdict.as_string().as_deref() {
            Some("ok") => Ok(()),
            Some(_) => {
                let code = get(&e, "code").as_string();
                match IoErrorKind::of_js(code.as_deref(), None) {
                    IoErrorKind::Other => Err(None),
                    kind => Err(Some(kind)),
                }
            }
            None if verdict.is_null() || verdict.is_undefined() => {
                if !names::load_candidates([name.as_str()]).is_empty() {
                    return Err(invalid(format!(
                        "loadPick: entries[{i}] ({name}) has no verdict: pass Snapshotter.list()'s entries"
                    )));
                }
                continue;
            }
            None => {
                return Err(invalid(format!(
                    "loadPick: entries[{i}].verdict: expected a string or null"
                )));
            }
        };
        reads.push((name, read));
    }
    let pick = snapshotter::load_pick(reads.iter().map(|(n, r)| (n.as_str(), *r)));
    Ok(pick.map_or(JsValue::NULL, JsValue::from_str))
}

/// `etcdctl snapshot status -w table` for a status `InspectDb.status()` returned, as
/// `etcd-snap status -w table` prints it (`inspect::etcdctl::status_table`).
#[wasm_bindgen(js_name = etcdctlStatusTable)]
pub fn etcdctl_status_table(
    #[wasm_bindgen(unchecked_param_type = "DbStatus")] status: JsValue,
) -> Result<String, JsValue> {
    let bad = |why: String| {
        invalid(format!(
            "etcdctlStatusTable: expected {{ hash, revision, totalKey, totalSize }}: {why}"
        ))
    };
    let text = JSON::stringify(&status)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| bad("not JSON".into()))?;
    let s: Status = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    Ok(etcdctl::status_table(&s))
}

/// A size as go-humanize's `Bytes` writes it (`57 kB`): `etcdctl snapshot status`'s
/// `TOTAL SIZE` cell (`inspect::status::humanize_bytes`).
#[wasm_bindgen(js_name = etcdctlBytes)]
pub fn etcdctl_bytes(n: f64) -> Result<String, JsValue> {
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64) {
        return Err(invalid(format!(
            "etcdctlBytes: expected a byte count, got {n}"
        )));
    }
    Ok(crate::inspect::status::humanize_bytes(n as u64))
}

/// etcd's backend quota: `{ defaultBytes, maxBytes }` (`inspect::info::DEFAULT_QUOTA_BYTES`,
/// `MAX_QUOTA_BYTES`, from etcdserver/quota.go), to set a db's size against.
#[wasm_bindgen(js_name = etcdQuota, unchecked_return_type = "{ defaultBytes: number; maxBytes: number }")]
pub fn etcd_quota() -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: u64| {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v as f64));
    };
    set("defaultBytes", crate::inspect::info::DEFAULT_QUOTA_BYTES);
    set("maxBytes", crate::inspect::info::MAX_QUOTA_BYTES);
    o.into()
}
