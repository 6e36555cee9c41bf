//! The `etcd-snap` binary's snap subcommands over real files.
mod defrag;
mod member;
mod snap;
mod snap_files;
