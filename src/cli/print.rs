//! What every subcommand prints, in one place: one JSON document per result, text ending in
//! a newline, and a failure as its causes (`caused by: ...`, outermost last) followed by
//! etcd's message as the last line of stderr.

use super::host::{Host, Stream};
use crate::{Error, Result};

/// Prints one JSON value and a newline on stdout.
pub fn json<H: Host, T: serde::Serialize>(host: &H, value: &T) -> Result<()> {
    let mut text = to_json(value)?;
    text.push('\n');
    host.write_stdout(text.as_bytes())
}

/// `value` as one line of JSON.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::InvalidArgument(format!("json: {e}")))
}

/// Prints `text` on stdout, adding the final newline if it lacks one.
pub fn text<H: Host>(host: &H, text: &str) -> Result<()> {
    if text.ends_with('\n') {
        host.write_stdout(text.as_bytes())
    } else {
        host.write_stdout(format!("{text}\n").as_bytes())
    }
}

/// One `warning: ...` line on stderr (damage bbolt reads through).
pub fn warning<H: Host>(host: &H, w: &str) {
    host.write_stderr(format!("warning: {w}\n").as_bytes());
}

/// Prints the causes (outermost last) and then etcd's message as the final stderr line.
pub fn report<H: Host>(host: &H, e: &Error) {
    let mut causes = Vec::new();
    // Only `ShortRead` keeps a cause its message does not already include (etcd masks it;
    // we surface it). Other variants either have no source or print it inline.
    if let Error::ShortRead { cause: Some(c) } = e {
        let mut cur: Option<&dyn std::error::Error> = Some(c.as_ref());
        while let Some(c) = cur {
            causes.push(c.to_string());
            cur = c.source();
        }
    }
    let mut out = String::new();
    for c in causes.iter().rev() {
        out.push_str(&format!("caused by: {c}\n"));
    }
    out.push_str(&format!("{e}\n"));
    host.write_stderr(out.as_bytes());
}

/// clap's message for a usage error, `--help` or `--version`, on the stream clap picks
/// (coloured when that stream is a terminal, as clap itself does); returns the exit status
/// (2 for a usage error, 0 for help and version).
pub fn usage<H: Host>(host: &H, e: &clap::Error) -> u8 {
    let stream = if e.use_stderr() {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    let styled = e.render();
    let text = if host.is_terminal(stream) {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    match stream {
        Stream::Stdout => {
            let _ = host.write_stdout(text.as_bytes());
        }
        Stream::Stderr => host.write_stderr(text.as_bytes()),
    }
    u8::try_from(e.exit_code()).unwrap_or(2)
}
