//! Results as plain JS objects: serde values with camelCased names, integers as numbers when
//! they are safe integers (bigint otherwise), and keys taken as strings or bytes.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::Error;

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

/// An integer as a number when it is a safe integer, else a bigint.
pub(super) fn int_js(n: i128) -> JsValue {
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

/// A serde value as a plain object (names camelCased, integers by [`int_js`]).
pub(crate) fn to_js_value<T: serde::Serialize>(v: &T) -> Result<JsValue, JsValue> {
    serde_json::to_value(v)
        .map(|v| value_to_js(&v))
        .map_err(|e| JsValue::from(Error::InvalidArgument(format!("serialize: {e}"))))
}

/// `o[k] = v`.
pub(super) fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &JsValue::from_str(k), &v.into());
}

/// A key or prefix given as a string (its UTF-8) or bytes; absent is empty.
pub(crate) fn bytes_or_string(v: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    if let Some(s) = v.as_string() {
        return Ok(s.into_bytes());
    }
    match v.dyn_ref::<Uint8Array>() {
        Some(a) => Ok(a.to_vec()),
        None => Err(JsValue::from(Error::InvalidArgument(format!(
            "{what}: expected a string or a Uint8Array"
        )))),
    }
}
