//! JS values <-> Rust values: snapshots as plain objects with `bigint` u64s, options, file
//! listings. Every conversion of caller input is checked; none can panic.

use bytes::Bytes;
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::codec::DecodedSnap;
use crate::error::{Error, Result};
use crate::js::util::get;
use crate::pb::size::SnapshotUnknown;
use crate::pb::{ConfState, Snapshot, SnapshotMetadata, WalSnapshot};
use crate::snapshotter::{FileInfo, Options};
use crate::storage::LockMode;

fn bad(msg: String) -> Error {
    Error::InvalidArgument(msg)
}

/// A u64 from a `bigint` (or a non-negative safe-integer `number`, for convenience).
pub fn to_u64(v: &JsValue, what: &str) -> Result<u64> {
    if v.is_bigint() {
        let b: BigInt = v.clone().unchecked_into();
        return u64::try_from(b).map_err(|_| bad(format!("{what}: bigint out of u64 range")));
    }
    if let Some(n) = v.as_f64() {
        if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
            return Ok(n as u64);
        }
        return Err(bad(format!(
            "{what}: {n} is not a non-negative safe integer (use a bigint)"
        )));
    }
    Err(bad(format!("{what}: expected a bigint")))
}

fn u64_list(v: &JsValue, what: &str) -> Result<Vec<u64>> {
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    if !Array::is_array(v) && !v.is_instance_of::<js_sys::BigUint64Array>() {
        return Err(bad(format!("{what}: expected an array of bigint")));
    }
    let arr = Array::from(v);
    arr.iter()
        .enumerate()
        .map(|(i, x)| to_u64(&x, &format!("{what}[{i}]")))
        .collect()
}

fn set(obj: &Object, key: &str, v: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}

fn u64s(v: &[u64]) -> JsValue {
    v.iter()
        .map(|x| JsValue::from(*x))
        .collect::<Array>()
        .into()
}

/// `{ term, index, confState: { voters, learners, votersOutgoing, learnersNext, autoLeave },
/// data }`; `data` is `null` when absent (etcd's nil), a (possibly empty) `Uint8Array`
/// otherwise.
pub fn snapshot_to_js(s: &Snapshot) -> JsValue {
    let cs = &s.metadata.conf_state;
    let c = Object::new();
    set(&c, "voters", &u64s(&cs.voters));
    set(&c, "learners", &u64s(&cs.learners));
    set(&c, "votersOutgoing", &u64s(&cs.voters_outgoing));
    set(&c, "learnersNext", &u64s(&cs.learners_next));
    set(&c, "autoLeave", &JsValue::from_bool(cs.auto_leave));
    let o = Object::new();
    set(&o, "term", &JsValue::from(s.metadata.term));
    set(&o, "index", &JsValue::from(s.metadata.index));
    set(&o, "confState", &c);
    let data = match &s.data {
        Some(d) => Uint8Array::from(&d[..]).into(),
        None => JsValue::NULL,
    };
    set(&o, "data", &data);
    o.into()
}

/// Name of the non-enumerable property a decoded snapshot object carries when its bytes held
/// protobuf fields etcd 3.4 does not know: `{ snapshot, metadata, confState }`, the bytes of
/// those fields at each level (gogo's `XXX_unrecognized`), so
/// [`snapshotSummaryJson`](super::codec::snapshot_summary_json) reports etcd's `Size()` as
/// `pb_size` (issue 9, item 10). Non-enumerable: spreads, `JSON.stringify` and deep equality
/// see the snapshot's fields only.
pub const UNKNOWN_FIELDS: &str = "unknownFields";

/// [`snapshot_to_js`] of a snapshot that carries `unknown` fields ([`UNKNOWN_FIELDS`]).
pub fn snapshot_to_js_with(s: &Snapshot, unknown: &SnapshotUnknown) -> JsValue {
    let o = snapshot_to_js(s);
    if !unknown.is_empty() {
        let u = Object::new();
        set(&u, "snapshot", &JsValue::from(unknown.snapshot as f64));
        set(&u, "metadata", &JsValue::from(unknown.metadata as f64));
        set(&u, "confState", &JsValue::from(unknown.conf_state as f64));
        let d = Object::new();
        set(&d, "value", &u);
        let _ = Reflect::define_property(
            o.unchecked_ref::<Object>(),
            &JsValue::from_str(UNKNOWN_FIELDS),
            &d,
        );
    }
    o
}

/// A decoded `.snap`'s snapshot as JS, with its unknown fields ([`UNKNOWN_FIELDS`]).
pub fn decoded_snap_to_js(d: &DecodedSnap) -> JsValue {
    snapshot_to_js_with(&d.snapshot, &d.unknown())
}

/// The [`UNKNOWN_FIELDS`] of a snapshot object (none if absent).
pub fn unknown_from_js(v: &JsValue) -> Result<SnapshotUnknown> {
    let u = get(v, UNKNOWN_FIELDS);
    if u.is_undefined() || u.is_null() {
        return Ok(SnapshotUnknown::default());
    }
    if !u.is_object() {
        return Err(bad(format!(
            "snapshot.{UNKNOWN_FIELDS}: expected an object"
        )));
    }
    let at = |k: &str| {
        let x = get(&u, k);
        if x.is_undefined() {
            Ok(0)
        } else {
            to_u64(&x, &format!("snapshot.{UNKNOWN_FIELDS}.{k}"))
        }
    };
    Ok(SnapshotUnknown {
        snapshot: at("snapshot")?,
        metadata: at("metadata")?,
        conf_state: at("confState")?,
    })
}

/// The inverse of [`snapshot_to_js`]. `confState` and its lists may be omitted (empty);
/// `data` may be `null`/`undefined` (absent) or a `Uint8Array`.
pub fn snapshot_from_js(v: &JsValue) -> Result<Snapshot> {
    if !v.is_object() {
        return Err(bad(
            "snapshot: expected an object { term, index, confState, data }".into(),
        ));
    }
    let term = to_u64(&get(v, "term"), "snapshot.term")?;
    let index = to_u64(&get(v, "index"), "snapshot.index")?;
    let c = get(v, "confState");
    let conf_state = if c.is_undefined() || c.is_null() {
        ConfState::default()
    } else if !c.is_object() {
        return Err(bad("snapshot.confState: expected an object".into()));
    } else {
        ConfState {
            voters: u64_list(&get(&c, "voters"), "confState.voters")?,
            learners: u64_list(&get(&c, "learners"), "confState.learners")?,
            voters_outgoing: u64_list(&get(&c, "votersOutgoing"), "confState.votersOutgoing")?,
            learners_next: u64_list(&get(&c, "learnersNext"), "confState.learnersNext")?,
            auto_leave: get(&c, "autoLeave").is_truthy(),
        }
    };
    let d = get(v, "data");
    let data = if d.is_undefined() || d.is_null() {
        None
    } else if let Some(a) = d.dyn_ref::<Uint8Array>() {
        Some(Bytes::from(a.to_vec()))
    } else {
        return Err(bad("snapshot.data: expected a Uint8Array or null".into()));
    };
    Ok(Snapshot {
        data,
        metadata: SnapshotMetadata {
            conf_state,
            index,
            term,
        },
    })
}

/// `[{ term, index }, ...]` (WAL snapshot records) for `loadNewestAvailable`.
pub fn wal_snaps_from_js(v: &JsValue) -> Result<Vec<WalSnapshot>> {
    if !Array::is_array(v) {
        return Err(bad("walSnaps: expected an array of { term, index }".into()));
    }
    Array::from(v)
        .iter()
        .enumerate()
        .map(|(i, w)| {
            Ok(WalSnapshot {
                term: to_u64(&get(&w, "term"), &format!("walSnaps[{i}].term"))?,
                index: to_u64(&get(&w, "index"), &format!("walSnaps[{i}].index"))?,
            })
        })
        .collect()
}

/// `{ lock?: "fail" | "wait" | "none", breakLock?: boolean, cleanTmpOnOpen?: boolean,
/// maxBroken?: number | null }`.
pub fn options_from_js(v: &JsValue) -> Result<Options> {
    let mut o = Options::default();
    if v.is_undefined() || v.is_null() {
        return Ok(o);
    }
    if !v.is_object() {
        return Err(bad("options: expected an object".into()));
    }
    let lock = get(v, "lock");
    if !lock.is_undefined() {
        o.lock = match lock.as_string().as_deref() {
            Some("fail") => Some(LockMode::Fail),
            Some("wait") => Some(LockMode::Wait),
            Some("none") => None,
            _ if lock.is_null() || lock == JsValue::FALSE => None,
            _ => {
                return Err(bad(
                    "options.lock: expected \"fail\", \"wait\" or \"none\"".into()
                ));
            }
        };
    }
    let brk = get(v, "breakLock");
    if !brk.is_undefined() {
        let b = brk
            .as_bool()
            .ok_or_else(|| bad("options.breakLock: expected a boolean".into()))?;
        if b {
            if o.lock != Some(LockMode::Fail) {
                return Err(bad("options.breakLock: needs lock \"fail\"".into()));
            }
            o.lock = Some(LockMode::Break);
        }
    }
    let clean = get(v, "cleanTmpOnOpen");
    if !clean.is_undefined() {
        o.clean_tmp_on_open = clean
            .as_bool()
            .ok_or_else(|| bad("options.cleanTmpOnOpen: expected a boolean".into()))?;
    }
    let mb = get(v, "maxBroken");
    if mb.is_null() {
        o.max_broken = None;
    } else if !mb.is_undefined() {
        o.max_broken = Some(to_u64(&mb, "options.maxBroken")? as usize);
    }
    Ok(o)
}

fn opt_u64(v: Option<u64>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from)
}

/// `{ name, kind, term, index, size, isDir, verdict, code }`: `verdict` is `"ok"`, `Read`'s
/// error message, or `null` for names `Load` never reads; `code` is the error's code.
pub fn file_info_to_js(f: &FileInfo) -> JsValue {
    let o = Object::new();
    set(&o, "name", &JsValue::from_str(&f.name));
    set(
        &o,
        "displayName",
        &JsValue::from_str(&crate::storage::raw_name::display(&f.name)),
    );
    set(&o, "kind", &JsValue::from_str(f.kind.as_str()));
    set(&o, "term", &opt_u64(f.term));
    set(&o, "index", &opt_u64(f.index));
    set(&o, "size", &JsValue::from(f.size));
    set(&o, "isDir", &JsValue::from_bool(f.is_dir));
    let (verdict, code) = match &f.verdict {
        None => (JsValue::NULL, JsValue::NULL),
        Some(Ok(())) => (JsValue::from_str("ok"), JsValue::NULL),
        Some(Err(e)) => (JsValue::from_str(&e.message), JsValue::from_str(e.code)),
    };
    set(&o, "verdict", &verdict);
    set(&o, "code", &code);
    o.into()
}
