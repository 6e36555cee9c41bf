//! Extension point for the rafthttp snapshot stream subcommands (helper F: `frame`,
//! `unframe`, `send`, `serve-snapshots`).
//!
//! Add each subcommand as a variant of [`WireCmd`] (clap derive: doc comment = help text,
//! fields = arguments) and handle it in [`WireCmd::run`]. `main.rs` flattens this enum into
//! the top-level command list, so nothing else needs editing. Follow the shared contract in
//! `main.rs`: JSON on stdout via `crate::print_json`, failures returned as `etcd_snap::Error`
//! (exit 1, etcd's message as the last stderr line).

use clap::Subcommand;

/// rafthttp snapshot stream subcommands. None yet.
#[derive(Debug, Subcommand)]
pub enum WireCmd {}

impl WireCmd {
    /// Runs the subcommand.
    pub fn run(self) -> etcd_snap::Result<()> {
        match self {}
    }
}
