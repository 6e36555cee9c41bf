//! The `etcd-snap` command line (native). See `etcd-snap --help`; the command layer is the
//! library's `cli` module (src/cli/), shared with the npm package's CLI.

// Native only. On wasm32 the binary is empty: `cargo test --target wasm32-unknown-unknown
// --test ...` builds every bin target, and this one must not break it.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

fn main() -> std::process::ExitCode {
    etcd_snap::cli::native::main()
}
