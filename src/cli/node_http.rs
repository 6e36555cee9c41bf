//! `send` and `serve-snapshots` over `node:http` (wasm only).

use crate::cli::host::{LinePrinter, SendRequest, Sent, ServeConfig};
use crate::cli::node::NodeFile;
use crate::error::{Error, Result};
use crate::{Message, Options};

pub async fn send(_req: &SendRequest, _msg: Message<NodeFile>) -> Result<Sent> {
    Err(Error::InvalidArgument("todo".into()))
}

pub async fn serve(_dir: &str, _o: Options, _cfg: &ServeConfig, _p: LinePrinter) -> Result<()> {
    Err(Error::InvalidArgument("todo".into()))
}
