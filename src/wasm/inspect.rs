//! JS bindings over [`crate::inspect`] for the browser viewer (www/) and other tools: open a db
//! from bytes, a `Blob`/`File` (read a slice at a time with `FileReaderSync`, so only in a
//! worker) or any `{ size, read(offset, length) }` object; then status, buckets, cluster info,
//! paged keys, key histories and space by prefix. Plus the v2 store summary of `.snap` data and
//! two helpers the viewer uses to keep files in OPFS through the OPFS backend.
//!
//! Results are plain objects: names camelCased, integers as numbers when they are safe
//! integers (bigint otherwise), keys and values as `Uint8Array`. All calls are synchronous
//! except the storage helpers; errors are JS `Error`s with `code` (`ERR_BAD_DB`, ...).

use std::borrow::Cow;

use futures_util::AsyncReadExt as _;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::error::{Error, Result};
use crate::inspect::mvcc::Mvcc;
use crate::inspect::{Cached, Db, OpenOptions, PageSource, Prefix, Revision};
use crate::js::error::from_js;
use crate::js::stream::js_to_async_read;
use crate::js::util::{get, method};
use crate::storage::{AtomicWrite as _, Storage as _};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Something `InspectDb.open` reads positioned slices from (synchronously). */
export interface DbSource {
  /** Total size in bytes. */
  size: number;
  /** Exactly `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array;
}
/** `etcdctl snapshot status` numbers. */
export interface DbStatus { hash: number; revision: number; totalKey: number; totalSize: number; }
/** Totals of one top-level bucket. */
export interface DbBucket {
  name: string; keys: number; keyBytes: number; valueBytes: number;
  pages: { branch: number; leaf: number; overflow: number; depth: number; inline: boolean };
}
/** What the non-key buckets say. */
export interface DbClusterInfo {
  meta: {
    consistentIndex: number | bigint | null; term: number | bigint | null;
    scheduledCompactRevision: number | null; finishedCompactRevision: number | null;
    confState: string | null; storageVersion: string | null;
  };
  members: V2Member[];
  removedMembers: string[];
  clusterVersion: string | null;
  leases: { id: number | bigint; ttl: number; remainingTtl: number }[];
  auth: { enabled: boolean; revision: number | null; users: { name: string; roles: string[] }[]; roles: string[] };
  alarms: { memberId: string; alarm: string }[];
}
/** bbolt facts. */
export interface DbLayout {
  size: number; pageSize: number; highWaterMark: number; txid: number; freelistPage: number | null;
  /** `"none"`, `"verified"` (an `etcdctl snapshot save` file) or `"unverified"`. */
  trailer: "none" | "verified" | "unverified";
}
/** The key index (built once, on first use). */
export interface DbIndex { currentRevision: number; compactRevision: number; keys: number; revisions: number; }
/** One key of a page from `InspectDb.keys`. */
export interface DbKey {
  key: Uint8Array;
  /** Stored revisions (puts and tombstones). */
  revisions: number;
  /** Live at the current revision. */
  live: boolean;
  /** Main revision of its newest stored event. */
  lastRevision: number;
  /** Bytes its revisions take in the `key` bucket. */
  bytes: number;
}
export interface DbKeyPage {
  keys: DbKey[];
  /** Pass as `after` for the next page; null on the last page. */
  next: Uint8Array | null;
  /** Keys matching the prefix (with any stored revision); counted only when `count` was set. */
  total: number | null;
}
/** One stored revision of a key with its `mvccpb.KeyValue`. */
export interface DbKeyRevision {
  main: number; sub: number; tombstone: boolean; size: number;
  createRevision: number; modRevision: number; version: number; lease: number | bigint;
  /** The value, cut to `maxValueBytes`; `valueSize` is its full size. */
  value: Uint8Array;
  valueSize: number;
}
/** Space used by one key prefix. */
export interface DbPrefixSpace { prefix: string; keys: number; liveKeys: number; revisions: number; bytes: number; }
/** A member as the v2 store or the `members` bucket records it (id in hex). */
export interface V2Member { id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean; }
/** What the v2 store JSON of a `.snap`'s data says. */
export interface V2StoreInfo {
  members: V2Member[]; removedMembers: string[]; clusterVersion: string | null;
  currentIndex: number | bigint; currentVersion: number | bigint; v2Keys: number;
}
"#;

fn invalid(msg: impl Into<String>) -> JsValue {
    JsValue::from(Error::InvalidArgument(msg.into()))
}

// ---------------------------------------------------------------------------------------
// Sources

/// A `Blob` read slice by slice with `FileReaderSync` (dedicated workers only).
struct BlobSource {
    blob: JsValue,
    slice: Function,
    reader: JsValue,
    read_as: Function,
    size: u64,
}

impl BlobSource {
    fn new(blob: JsValue) -> Result<Self> {
        let size = get(&blob, "size")
            .as_f64()
            .ok_or_else(|| Error::InvalidArgument("blob.size: not a number".into()))?;
        let slice = method(&blob, "slice")
            .ok_or_else(|| Error::InvalidArgument("blob.slice: not a function".into()))?;
        let ctor = get(&js_sys::global().into(), "FileReaderSync");
        let ctor = ctor.dyn_into::<Function>().map_err(|_| {
            Error::InvalidArgument(
                "InspectDb.open: a Blob can be read only in a worker (FileReaderSync); pass a Uint8Array instead".into(),
            )
        })?;
        let reader = Reflect::construct(&ctor, &Array::new())
            .map_err(|e| from_js("open", "FileReaderSync", &e))?;
        let read_as = method(&reader, "readAsArrayBuffer").ok_or_else(|| {
            Error::InvalidArgument("FileReaderSync.readAsArrayBuffer missing".into())
        })?;
        Ok(BlobSource {
            blob,
            slice,
            reader,
            read_as,
            size: size as u64,
        })
    }
}

impl PageSource for BlobSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let end = offset
            .checked_add(len as u64)
            .filter(|&e| e <= self.size)
            .ok_or_else(|| crate::inspect::source::out_of_range(offset, len, self.size))?;
        let part = self
            .slice
            .call2(&self.blob, &(offset as f64).into(), &(end as f64).into())
            .map_err(|e| from_js("read", "blob", &e))?;
        let buf = self
            .read_as
            .call1(&self.reader, &part)
            .map_err(|e| from_js("read", "blob", &e))?;
        let bytes = Uint8Array::new(&buf);
        if bytes.length() as usize != len {
            return Err(Error::io(
                crate::IoErrorKind::Other,
                "read",
                "blob",
                format!("got {} bytes of {len}", bytes.length()),
            ));
        }
        Ok(Cow::Owned(bytes.to_vec()))
    }
}

/// A JS object with `size` and a synchronous `read(offset, length)`.
struct CallbackSource {
    this: JsValue,
    read: Function,
    size: u64,
}

impl PageSource for CallbackSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.size) {
            return Err(crate::inspect::source::out_of_range(offset, len, self.size));
        }
        let got = self
            .read
            .call2(&self.this, &(offset as f64).into(), &(len as f64).into())
            .map_err(|e| from_js("read", "source", &e))?;
        let bytes = got
            .dyn_into::<Uint8Array>()
            .map_err(|_| Error::InvalidArgument("source.read: expected a Uint8Array".into()))?;
        if bytes.length() as usize != len {
            return Err(Error::io(
                crate::IoErrorKind::Other,
                "read",
                "source",
                format!("source.read returned {} bytes of {len}", bytes.length()),
            ));
        }
        Ok(Cow::Owned(bytes.to_vec()))
    }
}

type Src = Box<dyn PageSource>;
type OpenDb = Db<Src>;

pub(super) fn source_from_js(v: JsValue) -> Result<Src> {
    source_with_cache(v, 128 << 20)
}

/// As [`source_from_js`], caching at most `cache_bytes` of a `Blob` or callback source (the
/// npm CLI makes one pass and keeps this small; wasm memory never shrinks).
pub(super) fn source_with_cache(v: JsValue, cache_bytes: usize) -> Result<Src> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(Box::new(a.to_vec()));
    }
    if !v.is_object() {
        return Err(Error::InvalidArgument(
            "InspectDb.open: expected a Uint8Array, a Blob or { size, read(offset, length) }"
                .into(),
        ));
    }
    if let Some(read) = method(&v, "read") {
        let size = get(&v, "size")
            .as_f64()
            .filter(|s| *s >= 0.0 && s.fract() == 0.0)
            .ok_or_else(|| Error::InvalidArgument("source.size: not a byte count".into()))?;
        let cb = CallbackSource {
            this: v,
            read,
            size: size as u64,
        };
        return Ok(Box::new(Cached::new(cb, 64 << 10, cache_bytes)));
    }
    if method(&v, "slice").is_some() {
        return Ok(Box::new(Cached::new(
            BlobSource::new(v)?,
            64 << 10,
            cache_bytes,
        )));
    }
    Err(Error::InvalidArgument(
        "InspectDb.open: expected a Uint8Array, a Blob or { size, read(offset, length) }".into(),
    ))
}

// ---------------------------------------------------------------------------------------
// JSON-ish conversion

fn camel(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

fn int_js(n: i128) -> JsValue {
    let f = n as f64;
    if f.abs() <= MAX_SAFE {
        JsValue::from_f64(f)
    } else if n > i64::MAX as i128 {
        js_sys::BigInt::from(n as u64).into()
    } else {
        js_sys::BigInt::from(n as i64).into()
    }
}

fn value_to_js(v: &serde_json::Value) -> JsValue {
    use serde_json::Value as V;
    match v {
        V::Null => JsValue::NULL,
        V::Bool(b) => JsValue::from_bool(*b),
        V::Number(n) => {
            if let Some(i) = n.as_i64() {
                int_js(i as i128)
            } else if let Some(u) = n.as_u64() {
                if (u as f64) <= MAX_SAFE {
                    JsValue::from_f64(u as f64)
                } else {
                    js_sys::BigInt::from(u).into()
                }
            } else {
                JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        V::String(s) => JsValue::from_str(s),
        V::Array(a) => a.iter().map(value_to_js).collect::<Array>().into(),
        V::Object(m) => {
            let o = Object::new();
            for (k, v) in m {
                // Keep etcd's own JSON names (peerURLs, totalKey); camelCase snake_case ones.
                let key = if k.contains('_') { camel(k) } else { k.clone() };
                let _ = Reflect::set(&o, &JsValue::from_str(&key), &value_to_js(v));
            }
            o.into()
        }
    }
}

fn to_js_value<T: serde::Serialize>(v: &T) -> Result<JsValue, JsValue> {
    serde_json::to_value(v)
        .map(|v| value_to_js(&v))
        .map_err(|e| invalid(format!("serialize: {e}")))
}

fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &JsValue::from_str(k), &v.into());
}

pub(super) fn bytes_or_string(v: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    if let Some(s) = v.as_string() {
        return Ok(s.into_bytes());
    }
    match v.dyn_ref::<Uint8Array>() {
        Some(a) => Ok(a.to_vec()),
        None => Err(invalid(format!(
            "{what}: expected a string or a Uint8Array"
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// InspectDb

self_cell::self_cell!(
    struct DbCell {
        owner: OpenDb,
        #[covariant]
        dependent: Lazy,
    }
);

/// The key index, built on first use (a db whose key bucket is corrupt still shows its
/// status error, buckets and meta).
struct Lazy<'a>(Option<Mvcc<'a, Prefix<Src>>>);

/// A read-only etcd db (`member/snap/db`, a `.snap.db`, or an `etcdctl snapshot save` file).
/// `close()` (and `free()`, which the JS entries make the same call) drops the db and its
/// cache; both may be called again, and any later call throws `InspectDb is closed` with
/// code `ERR_INVALID_ARGUMENT` (issue 9, item 11), as a closed `Snapshotter` does.
#[wasm_bindgen]
pub struct InspectDb {
    cell: Option<DbCell>,
}

/// The error of any call on a closed `InspectDb`.
fn closed() -> JsValue {
    invalid("InspectDb is closed")
}

#[wasm_bindgen]
extern "C" {
    /// `{ verifyTrailer?: boolean }`.
    #[wasm_bindgen(typescript_type = "{ verifyTrailer?: boolean }")]
    pub type InspectOpenOptions;
    /// `{ prefix?, after?, limit?, count? }`.
    #[wasm_bindgen(
        typescript_type = "{ prefix?: string | Uint8Array; after?: Uint8Array | null; limit?: number; count?: boolean }"
    )]
    pub type KeyQuery;
    /// `{ limit?, maxValueBytes? }`.
    #[wasm_bindgen(typescript_type = "{ limit?: number; maxValueBytes?: number }")]
    pub type HistoryOptions;
}

/// A positive count option `key` of `o` (default `def`, at most `max`).
fn count_opt(o: &JsValue, key: &str, def: usize, max: usize) -> Result<usize, JsValue> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Ok(def);
    }
    match v.as_f64() {
        Some(n) if n >= 1.0 => Ok(if n >= max as f64 { max } else { n as usize }),
        _ => Err(invalid(format!(
            "options.{key}: expected a positive number"
        ))),
    }
}

impl InspectDb {
    fn db(&self) -> Result<&OpenDb, JsValue> {
        self.cell
            .as_ref()
            .map(DbCell::borrow_owner)
            .ok_or_else(closed)
    }

    fn with_index<T>(
        &mut self,
        f: impl for<'a> FnOnce(&Mvcc<'a, Prefix<Src>>) -> Result<T, JsValue>,
    ) -> Result<T, JsValue> {
        let cell = self.cell.as_mut().ok_or_else(closed)?;
        cell.with_dependent_mut(|db, lazy| {
            if lazy.0.is_none() {
                lazy.0 = Some(db.mvcc()?);
            }
            f(lazy.0.as_ref().expect("built above"))
        })
    }
}

#[wasm_bindgen]
impl InspectDb {
    /// Opens a db: checks an `etcdctl snapshot save` sha256 trailer (unless
    /// `verifyTrailer: false`), then bbolt's meta pages. Throws `ERR_BAD_DB` /
    /// `ERR_DB_HASH_MISMATCH` with the page and the problem.
    pub fn open(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | Blob | DbSource")] source: JsValue,
        options: Option<InspectOpenOptions>,
    ) -> Result<InspectDb, JsValue> {
        let mut opts = OpenOptions::default();
        if let Some(o) = options {
            let v = get(&o, "verifyTrailer");
            if let Some(b) = v.as_bool() {
                opts.verify_trailer = b;
            } else if !v.is_undefined() {
                return Err(invalid("options.verifyTrailer: expected a boolean"));
            }
        }
        let src = source_from_js(source)?;
        let db = Db::open_with(src, opts)?;
        Ok(InspectDb {
            cell: Some(DbCell::new(db, |_| Lazy(None))),
        })
    }

    /// Drops the db, its cache and its key index. Idempotent; later calls throw.
    pub fn close(&mut self) {
        self.cell = None;
    }

    /// Damage found so far that bbolt reads through without a word (a db shorter than its
    /// high water mark, an element running on into the next page): the numbers are then
    /// the ones etcdctl reports, and these say what is wrong.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn warnings(&self) -> Result<JsValue, JsValue> {
        Ok(self
            .db()?
            .warnings()
            .iter()
            .map(|w| JsValue::from_str(w))
            .collect::<Array>()
            .into())
    }

    /// True once `close()` (or `free()`) was called.
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.cell.is_none()
    }

    /// File size, page size, high water mark, txid, trailer.
    #[wasm_bindgen(unchecked_return_type = "DbLayout")]
    pub fn layout(&self) -> Result<JsValue, JsValue> {
        let db = self.db()?;
        let bolt = db.bolt();
        let meta = bolt.meta();
        let o = Object::new();
        set(&o, "size", int_js(bolt.source().inner().size() as i128));
        set(&o, "pageSize", int_js(bolt.page_size() as i128));
        set(&o, "highWaterMark", int_js(bolt.size() as i128));
        set(&o, "txid", int_js(meta.txid as i128));
        let freelist = if meta.freelist == crate::inspect::bbolt::meta::NO_FREELIST {
            JsValue::NULL
        } else {
            int_js(meta.freelist as i128)
        };
        set(&o, "freelistPage", freelist);
        set(&o, "trailer", to_js_value(&db.trailer())?);
        Ok(o.into())
    }

    /// `etcdctl snapshot status` (bbolt's integrity check first, as etcdctl).
    #[wasm_bindgen(unchecked_return_type = "DbStatus")]
    pub fn status(&self) -> Result<JsValue, JsValue> {
        let s = self.db()?.status()?;
        to_js_value(&s)
    }

    /// bbolt's integrity check: an empty list means consistent.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn check(&self) -> Result<JsValue, JsValue> {
        let problems = self.db()?.check();
        Ok(problems
            .iter()
            .map(|p| JsValue::from_str(p))
            .collect::<Array>()
            .into())
    }

    /// Top-level buckets with entry and page totals.
    #[wasm_bindgen(unchecked_return_type = "DbBucket[]")]
    pub fn buckets(&self) -> Result<JsValue, JsValue> {
        to_js_value(&self.db()?.buckets()?)
    }

    /// meta, members, leases, auth and alarms.
    #[wasm_bindgen(js_name = clusterInfo, unchecked_return_type = "DbClusterInfo")]
    pub fn cluster_info(&self) -> Result<JsValue, JsValue> {
        to_js_value(&self.db()?.cluster_info()?)
    }

    /// Builds the key index if needed (reads the whole `key` bucket once) and sums it up.
    #[wasm_bindgen(unchecked_return_type = "DbIndex")]
    pub fn index(&mut self) -> Result<JsValue, JsValue> {
        self.with_index(|m| {
            let o = Object::new();
            set(&o, "currentRevision", int_js(m.current_revision() as i128));
            set(&o, "compactRevision", int_js(m.compact_revision() as i128));
            set(&o, "keys", int_js(m.key_count() as i128));
            set(&o, "revisions", int_js(m.revision_count() as i128));
            Ok(o.into())
        })
    }

    /// One page of keys (with any stored revision, deleted ones included) starting with
    /// `prefix`, after the key `after`, at most `limit` (default 100, at most 10000).
    #[wasm_bindgen(unchecked_return_type = "DbKeyPage")]
    pub fn keys(&mut self, query: Option<KeyQuery>) -> Result<JsValue, JsValue> {
        let q: JsValue = query.map_or(JsValue::UNDEFINED, Into::into);
        let prefix = bytes_or_string(&get(&q, "prefix"), "query.prefix")?;
        let after = get(&q, "after");
        let after = if after.is_undefined() || after.is_null() {
            None
        } else {
            Some(bytes_or_string(&after, "query.after")?)
        };
        let limit = count_opt(&q, "limit", 100, 10_000)?;
        let count = get(&q, "count").as_bool().unwrap_or(false);
        self.with_index(|m| {
            let current = m.current_revision();
            let start = match &after {
                // The smallest key greater than `after`.
                Some(a) if a.as_slice() >= prefix.as_slice() => {
                    let mut s = a.clone();
                    s.push(0);
                    s
                }
                _ => prefix.clone(),
            };
            let list = Array::new();
            let mut last: Option<&[u8]> = None;
            let mut more = false;
            for (key, events) in m.keys_from(&start) {
                if !key.starts_with(&prefix) {
                    break;
                }
                if list.length() as usize == limit {
                    more = true;
                    break;
                }
                let o = Object::new();
                set(&o, "key", Uint8Array::from(key));
                set(&o, "revisions", int_js(events.len() as i128));
                let newest = events.last();
                let live = newest.is_some_and(|e| !e.tombstone && e.rev.main <= current);
                set(&o, "live", live);
                set(
                    &o,
                    "lastRevision",
                    int_js(newest.map_or(0, |e| e.rev.main) as i128),
                );
                set(
                    &o,
                    "bytes",
                    int_js(events.iter().map(|e| e.size).sum::<u64>() as i128),
                );
                list.push(&o);
                last = Some(key);
            }
            let out = Object::new();
            set(&out, "keys", list);
            let next: JsValue = match (more, last) {
                (true, Some(k)) => Uint8Array::from(k).into(),
                _ => JsValue::NULL,
            };
            set(&out, "next", next);
            let total: JsValue = if count {
                let n = m
                    .keys_from(&prefix)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .count();
                int_js(n as i128)
            } else {
                JsValue::NULL
            };
            set(&out, "total", total);
            Ok(out.into())
        })
    }

    /// The stored revisions of `key`, oldest first, with their decoded `KeyValue`s: the newest
    /// `limit` of them (default 1000), values cut to `maxValueBytes` (default 256 KiB;
    /// `valueSize` is the full size, [`InspectDb::value`] reads it whole). Tombstones have
    /// empty values, as etcd stores them.
    #[wasm_bindgen(unchecked_return_type = "DbKeyRevision[]")]
    pub fn history(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
        options: Option<HistoryOptions>,
    ) -> Result<JsValue, JsValue> {
        let key = bytes_or_string(&key, "key")?;
        let o: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let limit = count_opt(&o, "limit", 1000, 1_000_000)?;
        let max_value = count_opt(&o, "maxValueBytes", 256 << 10, usize::MAX)?;
        self.with_index(|m| {
            let out = Array::new();
            let all = m.history(&key);
            for ev in &all[all.len().saturating_sub(limit)..] {
                let kv = m.value_at(ev.rev, ev.tombstone)?;
                let o = Object::new();
                let Revision { main, sub } = ev.rev;
                set(&o, "main", int_js(main as i128));
                set(&o, "sub", int_js(sub as i128));
                set(&o, "tombstone", ev.tombstone);
                set(&o, "size", int_js(ev.size as i128));
                set(&o, "createRevision", int_js(kv.create_revision as i128));
                set(&o, "modRevision", int_js(kv.mod_revision as i128));
                set(&o, "version", int_js(kv.version as i128));
                set(&o, "lease", int_js(kv.lease as i128));
                set(&o, "valueSize", int_js(kv.value.len() as i128));
                let cut = kv.value.len().min(max_value);
                set(&o, "value", Uint8Array::from(&kv.value[..cut]));
                out.push(&o);
            }
            Ok(out.into())
        })
    }

    /// The whole value `key` has at revision `main`/`sub` (one of its stored revisions).
    pub fn value(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] key: JsValue,
        main: f64,
        sub: f64,
    ) -> Result<Uint8Array, JsValue> {
        let key = bytes_or_string(&key, "key")?;
        self.with_index(|m| {
            let ev = m
                .history(&key)
                .iter()
                .find(|e| e.rev.main as f64 == main && e.rev.sub as f64 == sub)
                .ok_or_else(|| invalid(format!("no stored revision {main}_{sub} of that key")))?;
            let kv = m.value_at(ev.rev, ev.tombstone)?;
            Ok(Uint8Array::from(kv.value.as_slice()))
        })
    }

    /// Space by key prefix: keys cut after the `depth`-th `separator` (default `/`, depth 1;
    /// keys with fewer separators count whole), largest first.
    #[wasm_bindgen(js_name = spaceByPrefix, unchecked_return_type = "DbPrefixSpace[]")]
    pub fn space_by_prefix(
        &mut self,
        separator: Option<String>,
        depth: Option<u32>,
    ) -> Result<JsValue, JsValue> {
        let sep = match separator.as_deref().map(str::as_bytes) {
            None => b'/',
            Some([b]) => *b,
            Some(_) => return Err(invalid("separator: expected one ASCII character")),
        };
        let depth = depth.unwrap_or(1).max(1) as usize;
        self.with_index(|m| to_js_value(&m.space_by_prefix(sep, depth)))
    }
}

/// Members, removed members, cluster version and v2 key count from the v2 store JSON that
/// etcd 3.4 keeps in a `.snap`'s data. Throws `ERR_INVALID_ARGUMENT` if it is not that JSON.
#[wasm_bindgen(js_name = v2StoreInfo, unchecked_return_type = "V2StoreInfo")]
pub fn v2_store_info(data: &[u8]) -> Result<JsValue, JsValue> {
    let v = crate::inspect::v2store::parse(data)?;
    to_js_value(&v)
}

// ---------------------------------------------------------------------------------------
// Keeping files in OPFS (the viewer keeps opened folders there with these)

async fn storage_of(spec: JsValue) -> Result<super::DynStorage> {
    if get(&spec, "opfs").is_undefined() {
        return Err(Error::InvalidArgument(
            "storage: expected an OPFS spec { opfs: path | handle, ... }".into(),
        ));
    }
    super::opfs_hook::open_opfs(&spec).await
}

/// Writes `source` (bytes, a `Blob`, a `ReadableStream` or async iterable of bytes) to
/// `name` in the OPFS folder `spec` names (as in `Snapshotter.open({ opfs })`), atomically
/// and durably through the OPFS backend. Resolves to the bytes written. Unlike `saveSnap`,
/// this keeps any file as it is (a broken `.snap`, a member `db`).
#[wasm_bindgen(js_name = opfsWriteFile, unchecked_return_type = "Promise<number>")]
pub fn write_storage_file(
    #[wasm_bindgen(unchecked_param_type = "StorageSpec")] spec: JsValue,
    name: String,
    #[wasm_bindgen(
        unchecked_param_type = "Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>"
    )]
    source: JsValue,
) -> Promise {
    let source = if source.dyn_ref::<Uint8Array>().is_some() {
        Ok(source)
    } else if let (Some(stream), true) = (
        method(&source, "stream"),
        method(&source, "slice").is_some(),
    ) {
        stream
            .call0(&source)
            .map_err(|e| from_js("read", name.clone(), &e))
    } else {
        Ok(source)
    };
    future_to_promise(async move {
        let run = async {
            let source = source?;
            let storage = storage_of(spec).await?;
            let mut w = storage.create_atomic(&name).await?;
            let mut total = 0u64;
            if let Some(a) = source.dyn_ref::<Uint8Array>() {
                let v = a.to_vec();
                w.write(&v).await?;
                total = v.len() as u64;
            } else {
                let mut r = js_to_async_read(source, "opfsWriteFile source")?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = r.read(&mut buf).await.map_err(|e| {
                        let mut err = Error::from(e);
                        if let Error::Io(io) = &mut err {
                            io.op = "read";
                            io.path = name.clone();
                        }
                        err
                    })?;
                    if n == 0 {
                        break;
                    }
                    w.write(&buf[..n]).await?;
                    total += n as u64;
                }
            }
            w.commit().await?;
            storage.sync_dir().await?;
            Ok::<_, Error>(JsValue::from_f64(total as f64))
        };
        run.await.map_err(JsValue::from)
    })
}

/// Removes `name` from the OPFS folder `spec` names; resolves to false if it was not there.
#[wasm_bindgen(js_name = opfsRemoveFile, unchecked_return_type = "Promise<boolean>")]
pub fn remove_storage_file(
    #[wasm_bindgen(unchecked_param_type = "StorageSpec")] spec: JsValue,
    name: String,
) -> Promise {
    future_to_promise(async move {
        let run = async {
            let storage = storage_of(spec).await?;
            match storage.remove(&name).await {
                Ok(()) => {}
                Err(e) if e.code() == "ERR_NOT_FOUND" => return Ok(JsValue::FALSE),
                Err(e) => return Err(e),
            }
            storage.sync_dir().await?;
            Ok::<_, Error>(JsValue::TRUE)
        };
        run.await.map_err(JsValue::from)
    })
}
