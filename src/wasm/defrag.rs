//! `defragDb`: the offline defrag ([`crate::defrag`]) for JS; converts and delegates.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::inspect::{Db, OpenOptions};
use crate::js::util::get;
use crate::wasm::inspect::{json::to_js_value, source_with_cache};
use crate::wasm::snapshotter::storage_from_spec;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `defragDb`. */
export interface DefragOptions {
  /** Do not verify the sha256 trailer of an `etcdctl snapshot save` file. */
  skipHashCheck?: boolean;
}
/** Sizes of a db before or after `defragDb`. */
export interface DefragSizes {
  /** Bytes of the file. */
  fileBytes: number;
  /** bbolt's high water mark times the page size: `snapshot status`'s totalSize. */
  totalSize: number;
}
/** What `defragDb` wrote (`etcd-snap defrag`'s JSON). */
export interface DefragReport {
  path: string; pageSize: number; before: DefragSizes; after: DefragSizes;
  buckets: number; keys: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The optional `options` argument of `defragDb`.
    #[wasm_bindgen(typescript_type = "DefragOptions")]
    pub type DefragOptionsArg;
}

/// Writes a compact copy of the db `source` (bytes, a `Blob` in a worker, or a `DbSource`)
/// as `name` in the folder `out` (a `StorageSpec`, as in `Snapshotter.open`), as
/// `etcd-snap defrag` does: atomically and durably through the storage backend, never
/// replacing a file (`ERR_ALREADY_EXISTS`); a damaged db is refused (`ERR_BAD_DB`) with
/// nothing written. Resolves to the sizes before and after.
#[wasm_bindgen(js_name = defragDb, unchecked_return_type = "Promise<DefragReport>")]
pub fn defrag_db(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Blob | DbSource")] source: JsValue,
    #[wasm_bindgen(unchecked_param_type = "StorageSpec")] out: JsValue,
    name: String,
    options: Option<DefragOptionsArg>,
) -> Promise {
    let skip = options
        .map(JsValue::from)
        .map(|o| get(&o, "skipHashCheck").as_bool() == Some(true))
        .unwrap_or(false);
    // One pass after the plan: a small cache, as the npm CLI keeps.
    let src = source_with_cache(source, 8 << 20);
    future_to_promise(async move {
        let run = async {
            let db = Db::open_with(
                src?,
                OpenOptions {
                    verify_trailer: !skip,
                },
            )?;
            let storage = storage_from_spec(out).await?;
            crate::defrag::defrag(&db, &storage, &name).await
        };
        to_js_value(&run.await.map_err(JsValue::from)?)
    })
}
