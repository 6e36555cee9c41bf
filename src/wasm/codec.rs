//! Pure functions: `.snap` bytes <-> snapshot objects, CRC-32C, etcd's file names, and the
//! JSON summary both CLIs print.

use bytes::Bytes;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

use super::convert::{decoded_snap_to_js, snapshot_from_js, to_u64, unknown_from_js};
use crate::error::Error;
use crate::{codec, names, summary};

fn bytes_arg(v: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    match v.dyn_ref::<Uint8Array>() {
        Some(a) => Ok(a.to_vec()),
        None => Err(JsValue::from(Error::InvalidArgument(format!(
            "{what}: expected a Uint8Array"
        )))),
    }
}

/// Decodes `.snap` file bytes with etcd's checks (`snap.Read`): throws `ERR_EMPTY_SNAPSHOT`,
/// `ERR_CRC_MISMATCH`, `ERR_DECODE`, ... with etcd's messages.
#[wasm_bindgen(js_name = decodeSnap, unchecked_return_type = "Snapshot")]
pub fn decode_snap(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
) -> Result<JsValue, JsValue> {
    let b = bytes_arg(&bytes, "decodeSnap")?;
    codec::decode_snap_file_raw(Bytes::from(b))
        .map(|d| decoded_snap_to_js(&d))
        .map_err(JsValue::from)
}

/// Encodes a snapshot as the exact bytes etcd's `SaveSnap` writes.
#[wasm_bindgen(js_name = encodeSnap)]
pub fn encode_snap(
    #[wasm_bindgen(unchecked_param_type = "SnapshotInput")] snapshot: JsValue,
) -> Result<Uint8Array, JsValue> {
    let s = snapshot_from_js(&snapshot)?;
    Ok(Uint8Array::from(&codec::encode_snap_file(&s)[..]))
}

/// CRC-32C (Castagnoli) of `bytes`, as etcd computes a `.snap` checksum. The bytes are
/// hashed in 256 KiB pieces through one small buffer, so a large input neither grows the
/// instance's memory (wasm memory never shrinks) nor leaves the CPU cache.
#[wasm_bindgen(js_name = crc32c)]
pub fn crc32c(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] bytes: JsValue,
) -> Result<u32, JsValue> {
    const PIECE: u32 = 256 * 1024;
    let Some(a) = bytes.dyn_ref::<Uint8Array>() else {
        return Err(JsValue::from(Error::InvalidArgument(
            "crc32c: expected a Uint8Array".into(),
        )));
    };
    let len = a.length();
    let mut buf = vec![0u8; len.min(PIECE) as usize];
    let mut crc = 0u32;
    let mut at = 0u32;
    while at < len {
        let n = (len - at).min(PIECE);
        let piece = &mut buf[..n as usize];
        a.subarray(at, at + n).copy_to(piece);
        crc = codec::crc32c_append(crc, piece);
        at += n;
    }
    Ok(crc)
}

/// `%016x-%016x.snap`.
#[wasm_bindgen(js_name = snapName)]
pub fn snap_name(
    #[wasm_bindgen(unchecked_param_type = "bigint")] term: JsValue,
    #[wasm_bindgen(unchecked_param_type = "bigint")] index: JsValue,
) -> Result<String, JsValue> {
    let t = to_u64(&term, "term")?;
    let i = to_u64(&index, "index")?;
    Ok(names::snap_name(t, i))
}

/// `%016x.snap.db`.
#[wasm_bindgen(js_name = dbName)]
pub fn db_name(
    #[wasm_bindgen(unchecked_param_type = "bigint")] index: JsValue,
) -> Result<String, JsValue> {
    let i = to_u64(&index, "index")?;
    Ok(names::db_name(i))
}

/// The JSON line `etcd-snap read` / `load` print for a snapshot (`term`, `index`,
/// `conf_state`, `data_nil`, `data_len`, `data_sha256`, `pb_size`), byte-identical to the
/// native CLI's. `pb_size` is etcd's `Size()`: it counts the unknown protobuf fields a snapshot
/// decoded by this package carries (its non-enumerable `unknownFields`).
#[wasm_bindgen(js_name = snapshotSummaryJson)]
pub fn snapshot_summary_json(
    #[wasm_bindgen(unchecked_param_type = "SnapshotInput")] snapshot: JsValue,
) -> Result<String, JsValue> {
    let s = snapshot_from_js(&snapshot)?;
    let unknown = unknown_from_js(&snapshot)?;
    serde_json::to_string(&summary::SnapSummary::of_unknown(&s, &unknown))
        .map_err(|e| JsValue::from(Error::InvalidArgument(format!("json: {e}"))))
}

/// The crate version this build was made from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
