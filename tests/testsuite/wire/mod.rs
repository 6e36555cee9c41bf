//! The rafthttp snapshot transfer: framing, HTTP sender / receiver, the CLI's frame / unframe.
mod cli;
mod frame;
mod http;
mod receiver;
