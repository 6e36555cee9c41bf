//! `status` and `keys` for JavaScript callers: the same library calls and etcdctl-shaped text
//! as `etcd-snap status` / `etcd-snap keys` (src/cli/inspect.rs), so both print the same bytes.
//! Each call opens the db, answers, and drops it.

use js_sys::{BigInt, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use super::inspect::{CallbackSource, Reading, bytes_or_string, source_with_cache};
use crate::error::{Error, Result};
use crate::inspect::{Cached, Db, OpenOptions, PageSource, RangeQuery, etcdctl};
use crate::js::error::from_js;
use crate::js::util::{get, method};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `etcdctlStatus`. */
export interface EtcdctlStatusOptions {
  /** `"json"` (default) or `"table"`, as `etcdctl -w`. */
  writeOut?: "json" | "table";
  /** Check an `etcdctl snapshot save` sha256 trailer (default true). */
  verifyTrailer?: boolean;
  /** Called with each problem bbolt reads through without a word (a db shorter than its
   *  high water mark, an element running on into the next page): the answer is then the one
   *  etcdctl gives, and this says what is wrong. */
  onWarning?: (message: string) => void;
}
/** Options of `etcdctlKeys`: the query `etcd-snap keys` runs. */
export interface EtcdctlKeysOptions extends EtcdctlStatusOptions {
  /** Only keys with this prefix (default: every key). */
  prefix?: string | Uint8Array;
  /** Start at this key (inclusive) if it sorts after the prefix. */
  from?: string | Uint8Array | null;
  /** Revision to read at (0 or absent = current). */
  rev?: number | bigint;
  /** At most this many keys (0 or absent = all); `count` still counts every match. */
  limit?: number | bigint;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `EtcdctlStatusOptions`.
    #[wasm_bindgen(typescript_type = "EtcdctlStatusOptions")]
    pub type StatusOptions;
    /// `EtcdctlKeysOptions`.
    #[wasm_bindgen(typescript_type = "EtcdctlKeysOptions")]
    pub type KeysOptions;
}

/// Read cache for one CLI call: enough for bbolt's branch pages on a walk, far less than a
/// large db (which a cache sized like the viewer's would end up holding whole).
const CACHE_BYTES: usize = 8 << 20;

/// The db behind `source`: a callback source read as the native CLI reads a file
/// ([`Reading::File`]), anything else as `InspectDb` reads it.
fn open(source: JsValue, opts: OpenOptions) -> Result<Db<Box<dyn PageSource>>> {
    let src: Box<dyn PageSource> = match method(&source, "read") {
        Some(read) if source.dyn_ref::<Uint8Array>().is_none() => {
            let f = CallbackSource::new(source, read, Reading::File)?;
            Box::new(Cached::new(f, 64 << 10, CACHE_BYTES))
        }
        _ => source_with_cache(source, CACHE_BYTES)?,
    };
    Db::open_with(src, opts)
}

fn invalid(msg: impl Into<String>) -> JsValue {
    JsValue::from(Error::InvalidArgument(msg.into()))
}

#[derive(Clone, Copy)]
enum WriteOut {
    Json,
    Table,
}

struct Common {
    write_out: WriteOut,
    open: OpenOptions,
    on_warning: Option<Function>,
}

impl Common {
    /// Hands `onWarning` the damage bbolt reads through (the answer is etcdctl's); the npm
    /// CLI prints them as the native one does (`warning: ...` on stderr).
    fn warn(&self, db: &Db<Box<dyn PageSource>>) {
        if let Some(f) = &self.on_warning {
            for w in db.warnings() {
                let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&w));
            }
        }
    }
}

fn common(o: &JsValue) -> Result<Common, JsValue> {
    let w = get(o, "writeOut");
    let write_out = match w.as_string().as_deref() {
        _ if w.is_undefined() || w.is_null() => WriteOut::Json,
        Some("json") => WriteOut::Json,
        Some("table") => WriteOut::Table,
        _ => return Err(invalid("options.writeOut: expected \"json\" or \"table\"")),
    };
    let mut open = OpenOptions::default();
    let v = get(o, "verifyTrailer");
    if let Some(b) = v.as_bool() {
        open.verify_trailer = b;
    } else if !(v.is_undefined() || v.is_null()) {
        return Err(invalid("options.verifyTrailer: expected a boolean"));
    }
    let w = get(o, "onWarning");
    let on_warning = match w.dyn_into::<Function>() {
        Ok(f) => Some(f),
        Err(w) if w.is_undefined() || w.is_null() => None,
        Err(_) => return Err(invalid("options.onWarning: expected a function")),
    };
    Ok(Common {
        write_out,
        open,
        on_warning,
    })
}

/// An integer option given as a safe-integer number or a bigint, within `i128`.
fn int_opt(o: &JsValue, key: &str) -> Result<Option<i128>, JsValue> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(n) = v.as_f64() {
        if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
            return Ok(Some(n as i128));
        }
    } else if v.is_bigint() {
        let b = BigInt::from(v);
        if let Ok(s) = b.to_string(10)
            && let Some(n) = s.as_string().and_then(|s| s.parse::<i128>().ok())
        {
            return Ok(Some(n));
        }
    }
    Err(invalid(format!("options.{key}: expected an integer")))
}

/// `etcdctl snapshot status` of a db (`Uint8Array`, `Blob` in a worker, or
/// `{ size, read(offset, length) }`), as the text `etcd-snap status -w json|table` prints
/// (bbolt's integrity check first; an `etcdctl snapshot save` trailer is verified).
#[wasm_bindgen(js_name = etcdctlStatus)]
pub fn etcdctl_status(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Blob | DbSource")] source: JsValue,
    options: Option<StatusOptions>,
) -> Result<String, JsValue> {
    let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
    let c = common(&options)?;
    let run = || {
        let db = open(source, c.open)?;
        let st = db.status()?;
        c.warn(&db);
        Ok::<_, Error>(match c.write_out {
            WriteOut::Json => etcdctl::status_json(&st),
            WriteOut::Table => etcdctl::status_table(&st),
        })
    };
    run().map_err(JsValue::from)
}

/// The query of `options`, parsed as `etcd-snap keys` parses its flags.
fn keys_options(options: &JsValue) -> Result<(Common, RangeQuery), JsValue> {
    let c = common(options)?;
    let prefix = bytes_or_string(&get(options, "prefix"), "options.prefix")?;
    let from = get(options, "from");
    let from = if from.is_undefined() || from.is_null() {
        None
    } else {
        Some(bytes_or_string(&from, "options.from")?)
    };
    let rev = match int_opt(options, "rev")? {
        None => 0,
        Some(r) => i64::try_from(r).map_err(|_| invalid("options.rev: out of range"))?,
    };
    let limit = match int_opt(options, "limit")? {
        None => 0,
        // A limit past what fits in memory lists everything, as it would natively.
        Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
        Some(_) => return Err(invalid("options.limit: expected a count")),
    };
    Ok((c, etcdctl::keys_query(&prefix, from.as_deref(), rev, limit)))
}

/// The keys of a db live at a revision, as the text `etcd-snap keys -w json|table` prints
/// (`-w json` is `etcdctl get -w json`: keys and values base64). The whole answer is one
/// string; [`etcdctl_keys_stream`] hands it out in pieces instead.
#[wasm_bindgen(js_name = etcdctlKeys)]
pub fn etcdctl_keys(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Blob | DbSource")] source: JsValue,
    options: Option<KeysOptions>,
) -> Result<String, JsValue> {
    let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
    let (c, q) = keys_options(&options)?;
    let run = || {
        let db = open(source, c.open)?;
        let text = etcdctl::keys_text(&db, &q, matches!(c.write_out, WriteOut::Table))?;
        c.warn(&db);
        Ok::<_, Error>(text)
    };
    run().map_err(JsValue::from)
}

/// [`etcdctl_keys`] streamed: `write(text)` is called with each piece of the answer (about
/// 64 KiB) as keys are found, so memory stays bounded whatever the number of keys (what the
/// npm `keys` command prints with). An error thrown by `write` ends the call as an I/O error
/// on `/dev/stdout` (its Node `code` worded as Go words it, e.g. `broken pipe`). Errors in
/// the db are reported before `write` is first called.
#[wasm_bindgen(js_name = etcdctlKeysStream)]
pub fn etcdctl_keys_stream(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Blob | DbSource")] source: JsValue,
    #[wasm_bindgen(unchecked_param_type = "(text: string) => void")] write: Function,
    options: Option<KeysOptions>,
) -> Result<(), JsValue> {
    let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
    let (c, q) = keys_options(&options)?;
    let run = || {
        let db = open(source, c.open)?;
        etcdctl::write_keys(&db, &q, matches!(c.write_out, WriteOut::Table), &mut |s| {
            write
                .call1(&JsValue::NULL, &JsValue::from_str(s))
                .map(drop)
                .map_err(|e| from_js("write", "/dev/stdout", &e))
        })?;
        c.warn(&db);
        Ok::<_, Error>(())
    };
    run().map_err(JsValue::from)
}
