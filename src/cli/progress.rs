//! `savedb`'s progress bar: drawn on stderr, only when it is a terminal and the copy is long
//! (standard input, or a file of 64 MiB or more), at most ten times a second, and once more
//! with a newline when the copy ends.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

use super::host::{Host, Stream};

/// A file at least this large gets a bar.
const LONG: u64 = 64 << 20;

/// Whether a copy of `total` bytes (`None`: standard input, size unknown) gets a bar.
pub fn wanted<H: Host>(host: &H, total: Option<u64>) -> bool {
    host.is_terminal(Stream::Stderr) && total.is_none_or(|t| t >= LONG)
}

/// A reader that counts what passes and redraws the bar.
pub struct Progress<'h, H, R> {
    host: &'h H,
    inner: R,
    total: Option<u64>,
    done: u64,
    start: f64,
    last: f64,
}

impl<'h, H: Host, R> Progress<'h, H, R> {
    /// Wraps `inner`, a copy of `total` bytes (`None` if unknown).
    pub fn new(host: &'h H, inner: R, total: Option<u64>) -> Self {
        let now = host.now_ms();
        Progress {
            host,
            inner,
            total,
            done: 0,
            start: now,
            last: f64::NEG_INFINITY,
        }
    }

    /// The last draw, ending the line.
    pub fn finish(&self) {
        self.draw(true);
    }

    fn draw(&self, last: bool) {
        let secs = ((self.host.now_ms() - self.start) / 1000.0).max(0.001);
        let rate = format!("{}/s", bytes(self.done as f64 / secs));
        let line = match self.total {
            Some(total) if total > 0 => {
                let frac = (self.done as f64 / total as f64).min(1.0);
                let width = 30;
                let full = (frac * width as f64).round() as usize;
                format!(
                    "[{}{}] {:>3}% {}/{} {rate}",
                    "#".repeat(full),
                    " ".repeat(width - full),
                    format!("{:.0}", frac * 100.0),
                    bytes(self.done as f64),
                    bytes(total as f64),
                )
            }
            _ => format!("{} {rate}", bytes(self.done as f64)),
        };
        let end = if last { "\n" } else { "" };
        self.host
            .write_stderr(format!("\r\x1b[2K{line}{end}").as_bytes());
    }
}

impl<H: Host, R: AsyncRead + Unpin> AsyncRead for Progress<'_, H, R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = r
            && n > 0
        {
            this.done += n as u64;
            let now = this.host.now_ms();
            if now - this.last >= 100.0 {
                this.last = now;
                this.draw(false);
            }
        }
        r
    }
}

/// `n` bytes in binary units, one decimal past bytes (`65.0 MiB`).
fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut x, mut i) = (n, 0);
    while x >= 1024.0 && i < UNITS.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{x:.0} {}", UNITS[i])
    } else {
        format!("{x:.1} {}", UNITS[i])
    }
}
