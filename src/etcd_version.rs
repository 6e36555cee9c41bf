//! Which etcd release's behaviour a rule reproduces, where releases differ (the WAL's entry size
//! limit, `wal.Open` checks, the bootstrap the doctor replays).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// An etcd minor release whose on-disk behaviour etcd-snap reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum EtcdVersion {
    /// etcd 3.4 (checked against 3.4.23, Debian bookworm).
    V3_4,
    /// etcd 3.5 (checked against 3.5.16, Debian trixie).
    #[default]
    V3_5,
}

impl EtcdVersion {
    /// Every version, oldest first.
    pub const ALL: [EtcdVersion; 2] = [EtcdVersion::V3_4, EtcdVersion::V3_5];

    /// `"3.4"` / `"3.5"`, as the CLI's `--etcd` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            EtcdVersion::V3_4 => "3.4",
            EtcdVersion::V3_5 => "3.5",
        }
    }
}

impl fmt::Display for EtcdVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EtcdVersion {
    type Err = Error;
    /// Takes `3.4`, `3.5` or a full release such as `3.5.16` / `v3.4.23`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.strip_prefix('v').unwrap_or(s);
        let minor: String = s.split('.').take(2).collect::<Vec<_>>().join(".");
        match minor.as_str() {
            "3.4" => Ok(EtcdVersion::V3_4),
            "3.5" => Ok(EtcdVersion::V3_5),
            _ => Err(Error::InvalidArgument(format!(
                "unsupported etcd version {s:?}: expected 3.4 or 3.5"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minor_and_full_releases() {
        assert_eq!("3.4".parse::<EtcdVersion>().unwrap(), EtcdVersion::V3_4);
        assert_eq!("v3.5.16".parse::<EtcdVersion>().unwrap(), EtcdVersion::V3_5);
        assert_eq!("3.4.23".parse::<EtcdVersion>().unwrap(), EtcdVersion::V3_4);
        assert!("3.6".parse::<EtcdVersion>().is_err());
        assert!("".parse::<EtcdVersion>().is_err());
    }
}
