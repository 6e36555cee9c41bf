//! JavaScript interop below the storage backends and the bindings (wasm32 only): calling into
//! JS without panicking ([`util`]), JS byte streams as `AsyncRead` ([`stream`]) and errors
//! across the boundary ([`error`]; the code/name -> kind map itself is
//! [`IoErrorKind::of_js`](crate::IoErrorKind::of_js), plain Rust and tested natively).
//! The Node, OPFS and JS-object backends and the `#[wasm_bindgen]` layer all stand on it.

pub mod error;
pub mod stream;
pub mod util;
