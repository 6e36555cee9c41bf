//! The `etcd-snap` command line (feature `cli`), written once: argument parsing (clap),
//! calling the library and every byte printed. The native binary (src/bin/etcd-snap/) and
//! the npm package's CLI (`runCli`, src/wasm/cli.rs behind pkg-config/cli.cjs) both run
//! [`run`] on their own [`Host`], so `etcd-snap ...` and `npx etcd-snap ...` print the same
//! bytes and exit with the same status (issue 8).
//!
//! Subcommands live in one module per area, each a clap `Subcommand` enum flattened into
//! `Command` below:
//! - `snap`: etcd's `snap` package operations (`read`, `load`, `save`, `savedb`,
//!   `release`, `ls`);
//! - `wire`: the rafthttp snapshot stream (`frame`, `unframe`, `send`, `serve-snapshots`);
//! - `inspect`: what is inside a snapshot (`status`, `keys`);
//! - `member`: a whole member's data dir (`wal`, `doctor`);
//! - `defrag`: a compact copy of a db, offline.
//!
//! Contract shared by every subcommand:
//! - results go to stdout as one JSON document (or a table where a `-w` flag asks for it);
//! - a failed operation exits with status 1 and prints etcd's error string as the **last line**
//!   of stderr (`snap: crc mismatch`); any underlying causes come on the lines before it;
//! - a usage error (unknown subcommand or flag, missing or malformed argument) exits with
//!   status 2, clap's convention, with clap's message on stderr;
//! - `doctor` exits with status 3 when etcd would fail to start on a member it read.
//!
//! The entry is `async` because the Node host's storage and network are promise-based; the
//! native host drives it with a plain `block_on` (its storage never waits).

mod defrag;
pub mod host;
mod inspect;
mod member;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod node;
#[cfg(target_arch = "wasm32")]
mod node_http;
mod print;
mod progress;
mod snap;
pub(crate) mod wire;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

pub use host::Host;

/// etcd's Raft snapshot storage (the `snap` package), byte-compatible with etcd 3.4-3.6.
#[derive(Debug, Parser)]
#[command(
    name = "etcd-snap",
    version,
    about,
    propagate_version = true,
    after_help = "Exit status: 0 on success; 1 when the operation fails (etcd's error string is \
                  the last line of stderr); 2 on a usage error; 3 when `doctor` predicts that etcd \
                  fails to start on at least one member."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Every subcommand, gathered from the per-area modules.
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Snap(snap::SnapCmd),
    #[command(flatten)]
    Wire(wire::WireCmd),
    #[command(flatten)]
    Inspect(inspect::InspectCmd),
    #[command(flatten)]
    Member(member::MemberCmd),
    #[command(flatten)]
    Defrag(defrag::DefragCmd),
}

/// Runs the command line `args` (the program name first, as `std::env::args_os` gives it)
/// on `host`; returns the exit status: 0 success, 1 a failed operation, 2 a usage error,
/// 3 `doctor`'s "etcd would fail".
pub async fn run<H: Host, I, T>(host: &H, args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return print::usage(host, &e),
    };
    let result = match cli.command {
        Command::Snap(c) => c.run(host).await.map(|()| 0),
        Command::Wire(c) => c.run(host).await.map(|()| 0),
        Command::Inspect(c) => c.run(host).map(|()| 0),
        Command::Member(c) => c.run(host).await,
        Command::Defrag(c) => c.run(host).await.map(|()| 0),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            print::report(host, &e);
            1
        }
    }
}
