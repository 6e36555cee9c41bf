//! A backend implemented by a JavaScript object the user supplies (wasm only): IndexedDB, S3,
//! a test double. The object implements the `StorageBackend` interface of the npm package's
//! `index.d.ts`; every method may return a value or a promise:
//!
//! ```ts
//! interface StorageBackend {
//!   list(): string[];                                   // every entry name
//!   stat(name: string): { size: number | bigint; isDir: boolean };
//!   read(name: string): Uint8Array;                     // whole file
//!   openRead(name: string): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
//!   createAtomic(name: string): AtomicWriter;           // invisible until commit()
//!   rename(from: string, to: string): void;             // replaces `to`
//!   remove(name: string): void;
//!   syncDir(): void;                                    // make renames/removals durable
//!   lock(mode: "fail" | "wait"): { release(): void };   // exclusive folder lock
//!   pathOf?(name: string): string;                      // how names appear in messages
//! }
//! interface AtomicWriter { write(chunk: Uint8Array): void; commit(): void; abort(): void }
//! ```
//!
//! Failures are thrown errors; `err.code` picks the kind: Node codes (`ENOENT`, `EEXIST`,
//! `ENOSPC`, ...), ours (`ERR_NOT_FOUND`, `ERR_LOCKED`, `ERR_NO_SPACE`, ...) or DOMException
//! names (`NotFoundError`, `QuotaExceededError`). A missing name **must** fail with a
//! not-found code: the snapshot logic depends on it. Durability is whatever the object
//! provides: `commit` must make the bytes durable under the final name, `syncDir` the names.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::check_name;
use super::{AtomicWrite, LockMode, Metadata, Storage};
use crate::error::{Error, Result};
use crate::js::error::from_js;
use crate::js::stream::{JsAsyncRead, js_to_async_read};
use crate::js::util::{get, method, settle};

/// The user's storage object.
#[derive(Clone)]
pub struct JsStorage {
    obj: JsValue,
}

const METHODS: &[&str] = &[
    "list",
    "stat",
    "read",
    "openRead",
    "createAtomic",
    "rename",
    "remove",
    "syncDir",
    "lock",
];

impl JsStorage {
    /// Wraps `obj`, checking that it has every method of the interface.
    pub fn new(obj: JsValue) -> Result<Self> {
        let missing: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| method(&obj, m).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "storage backend object lacks method(s): {}",
                missing.join(", ")
            )));
        }
        Ok(JsStorage { obj })
    }

    /// Calls `this.obj[name](...args)` and awaits the result.
    async fn call(
        &self,
        op: &'static str,
        path: &str,
        name: &str,
        args: &[JsValue],
    ) -> Result<JsValue> {
        call_method(&self.obj, op, path, name, args).await
    }

    fn display(&self, name: &str) -> String {
        self.path_of(name)
    }
}

async fn call_method(
    obj: &JsValue,
    op: &'static str,
    path: &str,
    name: &str,
    args: &[JsValue],
) -> Result<JsValue> {
    let f = method(obj, name).ok_or_else(|| {
        Error::InvalidArgument(format!("storage backend object lacks method {name}"))
    })?;
    let arr: Array = args.iter().collect();
    let v = f.apply(obj, &arr).map_err(|e| from_js(op, path, &e))?;
    settle(v).await.map_err(|e| from_js(op, path, &e))
}

fn to_size(v: &JsValue) -> Option<u64> {
    if v.is_bigint() {
        u64::try_from(v.clone().unchecked_into::<js_sys::BigInt>()).ok()
    } else {
        v.as_f64()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0)
            .map(|n| n as u64)
    }
}

impl Storage for JsStorage {
    type Reader = JsAsyncRead;
    type Writer = JsWriter;
    type Lock = JsLock;

    async fn list(&self) -> Result<Vec<String>> {
        let v = self.call("open", &self.display(""), "list", &[]).await?;
        let arr = v.dyn_into::<Array>().map_err(|_| {
            Error::InvalidArgument("storage backend: list() must return an array of strings".into())
        })?;
        arr.iter()
            .map(|n| {
                n.as_string().ok_or_else(|| {
                    Error::InvalidArgument("storage backend: list() returned a non-string".into())
                })
            })
            .collect()
    }

    async fn stat(&self, name: &str) -> Result<Metadata> {
        check_name(name)?;
        let p = self.display(name);
        let v = self.call("stat", &p, "stat", &[name.into()]).await?;
        let is_dir = get(&v, "isDir").is_truthy();
        let size = to_size(&get(&v, "size")).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "storage backend: stat({name:?}).size is not a non-negative integer"
            ))
        })?;
        Ok(Metadata {
            size: if is_dir { 0 } else { size },
            is_dir,
        })
    }

    async fn read(&self, name: &str) -> Result<Vec<u8>> {
        check_name(name)?;
        let p = self.display(name);
        let v = self.call("read", &p, "read", &[name.into()]).await?;
        match v.dyn_ref::<Uint8Array>() {
            Some(a) => Ok(a.to_vec()),
            None => Err(Error::InvalidArgument(format!(
                "storage backend: read({name:?}) must return a Uint8Array"
            ))),
        }
    }

    async fn open_read(&self, name: &str) -> Result<JsAsyncRead> {
        check_name(name)?;
        let p = self.display(name);
        let v = self.call("open", &p, "openRead", &[name.into()]).await?;
        js_to_async_read(v, "storage backend openRead()")
    }

    async fn create_atomic(&self, name: &str) -> Result<JsWriter> {
        check_name(name)?;
        let p = self.display(name);
        let w = self
            .call("open", &p, "createAtomic", &[name.into()])
            .await?;
        for m in ["write", "commit", "abort"] {
            if method(&w, m).is_none() {
                return Err(Error::InvalidArgument(format!(
                    "storage backend: createAtomic() result lacks {m}()"
                )));
            }
        }
        Ok(JsWriter {
            w: Some(w),
            path: p,
        })
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        check_name(from)?;
        check_name(to)?;
        let p = format!("{} {}", self.display(from), self.display(to));
        self.call("rename", &p, "rename", &[from.into(), to.into()])
            .await
            .map(drop)
    }

    async fn remove(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let p = self.display(name);
        self.call("remove", &p, "remove", &[name.into()])
            .await
            .map(drop)
    }

    async fn sync_dir(&self) -> Result<()> {
        let p = self.display("");
        self.call("sync", &p, "syncDir", &[]).await.map(drop)
    }

    async fn lock(&self, mode: LockMode) -> Result<JsLock> {
        let m = match mode {
            LockMode::Fail | LockMode::Break => "fail",
            LockMode::Wait => "wait",
        };
        let p = self.display("");
        let h = self.call("lock", &p, "lock", &[m.into()]).await?;
        Ok(JsLock { h })
    }

    fn path_of(&self, name: &str) -> String {
        method(&self.obj, "pathOf")
            .and_then(|f| f.call1(&self.obj, &name.into()).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| name.to_owned())
    }
}

/// The user's atomic writer; dropped without commit or abort, it is aborted.
pub struct JsWriter {
    w: Option<JsValue>,
    path: String,
}

impl AtomicWrite for JsWriter {
    async fn write(&mut self, buf: &[u8]) -> Result<()> {
        let w = self
            .w
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("writer is closed".into()))?;
        // A copy: the backend may keep the chunk after the call returns.
        let chunk = Uint8Array::from(buf);
        call_method(w, "write", &self.path, "write", &[chunk.into()])
            .await
            .map(drop)
    }

    async fn commit(mut self) -> Result<()> {
        let Some(w) = self.w.take() else {
            return Err(Error::InvalidArgument("writer is closed".into()));
        };
        call_method(&w, "sync", &self.path, "commit", &[])
            .await
            .map(drop)
    }

    async fn abort(mut self) -> Result<()> {
        let Some(w) = self.w.take() else {
            return Ok(());
        };
        call_method(&w, "remove", &self.path, "abort", &[])
            .await
            .map(drop)
    }
}

impl Drop for JsWriter {
    fn drop(&mut self) {
        if let Some(w) = self.w.take() {
            fire_and_forget(&w, "abort");
        }
    }
}

/// Calls `obj[name]()` and ignores the outcome, including a rejected promise.
fn fire_and_forget(obj: &JsValue, name: &str) {
    if let Some(f) = method(obj, name)
        && let Ok(v) = f.call0(obj)
    {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = settle(v).await;
        });
    }
}

/// The user's lock handle; dropping it calls `release()`.
pub struct JsLock {
    h: JsValue,
}

impl Drop for JsLock {
    fn drop(&mut self) {
        fire_and_forget(&self.h, "release");
    }
}
