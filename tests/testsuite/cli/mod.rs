//! The `etcd-snap` binary's snap subcommands over real files.
mod snap;
mod snap_files;
