//! `runCli(argv, host)`: the `etcd-snap` command line (src/cli/) for the npm package's
//! `etcd-snap` bin (pkg-config/cli.cjs). Converts and delegates only: the command layer and
//! the Node host live in `crate::cli`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::cli::node::NodeHost;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** What `runCli` prints through and reads from (the process's stdio in the npm bin). */
export interface CliHost {
  /** Writes the bytes to stdout whole, synchronously (they are valid only during the call);
   *  a throw fails the command. */
  stdout(bytes: Uint8Array): void;
  /** Writes the bytes to stderr, as `stdout`. */
  stderr(bytes: Uint8Array): void;
  /** Standard input as a byte stream (called only by commands that read `-`). */
  stdin(): AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
}
"#;

/// Runs `etcd-snap` with `argv` (the program name first) on `host`; resolves to the exit
/// status: 0 success, 1 a failed operation (etcd's message last on stderr), 2 a usage error.
#[wasm_bindgen(js_name = runCli, unchecked_return_type = "Promise<number>")]
pub fn run_cli(
    argv: Vec<String>,
    #[wasm_bindgen(unchecked_param_type = "CliHost")] host: JsValue,
) -> Promise {
    let host = match NodeHost::new(&host) {
        Ok(h) => h,
        Err(e) => return Promise::reject(&e.into()),
    };
    future_to_promise(async move {
        let code = crate::cli::run(&host, argv).await;
        Ok(JsValue::from(code))
    })
}
