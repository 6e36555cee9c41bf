//! Extension point for the subcommands that look inside a snapshot (helper G: `status`,
//! `keys`).
//!
//! Add each subcommand as a variant of [`InspectCmd`] (clap derive: doc comment = help text,
//! fields = arguments) and handle it in [`InspectCmd::run`]. `main.rs` flattens this enum into
//! the top-level command list, so nothing else needs editing. Follow the shared contract in
//! `main.rs`: JSON on stdout via `crate::print_json` (tables only behind `-w table`), failures
//! returned as `etcd_snap::Error` (exit 1, etcd's message as the last stderr line).

use clap::Subcommand;

/// Snapshot content subcommands. None yet.
#[derive(Debug, Subcommand)]
pub enum InspectCmd {}

impl InspectCmd {
    /// Runs the subcommand.
    pub fn run(self) -> etcd_snap::Result<()> {
        match self {}
    }
}
