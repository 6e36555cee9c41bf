//! The `etcd-snap` command line (native). See `etcd-snap --help`.
//!
//! Subcommands live in one module per area, each a clap `Subcommand` enum flattened into
//! [`Command`] below, so helpers add commands in their own files without touching this one
//! beyond a line:
//! - [`snap_cmds`]: etcd's `snap` package operations (`read`, `load`, `save`, `savedb`,
//!   `release`, `ls`);
//! - [`wire_cmds`]: the rafthttp snapshot stream (`frame`, `unframe`, `send`, `serve-snapshots`);
//! - [`inspect_cmds`]: what is inside a snapshot (`status`, `keys`).
//!
//! Contract shared by every subcommand (the npm CLI offers the same):
//! - results go to stdout as one JSON document (or a table where a `-w` flag asks for it);
//! - a failed operation exits with status 1 and prints etcd's error string as the **last line**
//!   of stderr (`snap: crc mismatch`); any underlying causes come on the lines before it;
//! - a usage error (unknown subcommand or flag, missing or malformed argument) exits with
//!   status 2, clap's convention, with clap's message on stderr.

// Native only (clap, std::fs). On wasm32 the binary is empty: `cargo test --target
// wasm32-unknown-unknown --test ...` builds every bin target, and this one must not break it.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod inspect_cmds;
mod snap_cmds;
mod wire_cmds;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// etcd's Raft snapshot storage (the `snap` package), byte-compatible with etcd 3.4-3.6.
#[derive(Debug, Parser)]
#[command(
    name = "etcd-snap",
    version,
    about,
    propagate_version = true,
    after_help = "Exit status: 0 on success; 1 when the operation fails (etcd's error string is \
                  the last line of stderr); 2 on a usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Every subcommand, gathered from the per-area modules.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Snap(snap_cmds::SnapCmd),
    #[command(flatten)]
    Wire(wire_cmds::WireCmd),
    #[command(flatten)]
    Inspect(inspect_cmds::InspectCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Snap(c) => c.run(),
        Command::Wire(c) => c.run(),
        Command::Inspect(c) => c.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// Prints the causes (outermost last) and then etcd's message as the final line.
fn report(e: &etcd_snap::Error) {
    let mut causes = Vec::new();
    // Only `ShortRead` keeps a cause its message does not already include (etcd masks it;
    // we surface it). Other variants either have no source or print it inline.
    if let etcd_snap::Error::ShortRead { cause: Some(c) } = e {
        let mut cur: Option<&dyn std::error::Error> = Some(c.as_ref());
        while let Some(c) = cur {
            causes.push(c.to_string());
            cur = c.source();
        }
    }
    let mut err = std::io::stderr().lock();
    for c in causes.iter().rev() {
        let _ = writeln!(err, "caused by: {c}");
    }
    let _ = writeln!(err, "{e}");
}

/// Prints one JSON value on stdout, as every subcommand's result.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> etcd_snap::Result<()> {
    let mut out = std::io::stdout().lock();
    let text = serde_json::to_string(value)
        .map_err(|e| etcd_snap::Error::InvalidArgument(format!("json: {e}")))?;
    writeln!(out, "{text}").map_err(stdout_error)
}

/// A failed write to stdout (closed pipe, full disk) as a storage error.
pub(crate) fn stdout_error(e: std::io::Error) -> etcd_snap::Error {
    etcd_snap::Error::io(
        etcd_snap::IoErrorKind::Other,
        "write",
        "/dev/stdout",
        etcd_snap::error::go_reason(&e),
    )
}
