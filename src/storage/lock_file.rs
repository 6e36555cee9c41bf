//! The `<dir>.etcd-snap.lock` protocol, shared by the Node backend (which cannot `flock`) and
//! the native one (which also takes it, so Node and native writers exclude each other).
//! Written once here so the two sides cannot drift; each backend brings only its I/O.
//!
//! The file sits beside the folder (etcd warns about unexpected files inside it), is created
//! exclusively and holds `{"pid":N,"host":"H","token":"T"}\n`. It is stale when its holder is
//! a process of this host that no longer exists, or, if it does not parse (a holder crashed
//! between creating and writing it), once it is older than [`UNPARSED_STALE_MS`].

/// A lock file that does not parse is stale once it is this old; a live holder writes it right
/// after creating it.
pub(crate) const UNPARSED_STALE_MS: f64 = 10_000.0;

/// `<dir>.etcd-snap.lock`, beside the directory (trailing slashes ignored).
pub(crate) fn lock_path(dir: &str) -> String {
    let trimmed = dir.trim_end_matches('/');
    let base = if trimmed.is_empty() { "/" } else { trimmed };
    format!("{base}.etcd-snap.lock")
}

/// Who holds a lock file.
#[derive(Debug, Clone)]
pub(crate) struct LockOwner {
    pub pid: f64,
    pub host: String,
    pub token: String,
    /// The raw file contents (to recognise the same file after a rename).
    pub raw: String,
    /// For a lock file that does not parse: its age.
    pub unparsed_age_ms: Option<f64>,
}

impl LockOwner {
    /// This process's entry, with the file contents to write.
    pub fn current(pid: f64, host: String, token: &str) -> Self {
        let raw = format!(
            "{{\"pid\":{pid},\"host\":{},\"token\":\"{token}\"}}\n",
            serde_json::to_string(&host).unwrap_or_else(|_| "\"\"".into())
        );
        LockOwner {
            pid,
            host,
            token: token.to_owned(),
            raw,
            unparsed_age_ms: None,
        }
    }

    /// `JSON.parse` of the contents plus the field checks; `None` if it does not parse.
    pub fn parse(raw: String) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(&raw).ok()?;
        Some(LockOwner {
            pid: v.get("pid")?.as_f64()?,
            host: v.get("host")?.as_str()?.to_owned(),
            token: v.get("token")?.as_str()?.to_owned(),
            raw,
            unparsed_age_ms: None,
        })
    }

    /// The holder of an existing file: parsed, or an unknown live owner of the given age.
    pub fn existing(raw: String, age_ms: impl FnOnce() -> Option<f64>) -> Self {
        LockOwner::parse(raw.clone()).unwrap_or_else(|| LockOwner {
            pid: 0.0,
            host: "unknown host".into(),
            token: String::new(),
            raw,
            unparsed_age_ms: Some(age_ms().unwrap_or(0.0)),
        })
    }

    /// Stale when held by a process of `this_host` that no longer exists (`pid_is_gone`).
    pub fn is_stale(&self, this_host: &str, pid_is_gone: impl FnOnce(f64) -> bool) -> bool {
        if let Some(age) = self.unparsed_age_ms {
            return age > UNPARSED_STALE_MS;
        }
        if self.host != this_host || self.pid <= 0.0 {
            return false;
        }
        pid_is_gone(self.pid)
    }

    /// Whether `raw` (a lock file's current contents) is the entry with `token`.
    pub fn holds_token(raw: Option<String>, token: &str) -> bool {
        raw.and_then(LockOwner::parse)
            .is_some_and(|o| o.token == token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_beside_the_folder() {
        assert_eq!(lock_path("/d/snap"), "/d/snap.etcd-snap.lock");
        assert_eq!(lock_path("/d/snap//"), "/d/snap.etcd-snap.lock");
        assert_eq!(lock_path("/"), "/.etcd-snap.lock");
    }

    #[test]
    fn entry_round_trips_and_staleness_follows_the_rules() {
        let me = LockOwner::current(42.0, "h\"x".into(), "00ff");
        assert_eq!(
            me.raw,
            "{\"pid\":42,\"host\":\"h\\\"x\",\"token\":\"00ff\"}\n"
        );
        let back = LockOwner::parse(me.raw.clone()).unwrap();
        assert_eq!((back.pid, back.host.as_str()), (42.0, "h\"x"));
        assert!(LockOwner::holds_token(Some(me.raw.clone()), "00ff"));
        assert!(!LockOwner::holds_token(Some(me.raw.clone()), "00fe"));
        assert!(back.is_stale("h\"x", |_| true));
        assert!(!back.is_stale("h\"x", |_| false));
        assert!(!back.is_stale("other", |_| true));
        let young = LockOwner::existing("{".into(), || Some(1.0));
        assert!(!young.is_stale("h", |_| true));
        let old = LockOwner::existing("{".into(), || Some(UNPARSED_STALE_MS + 1.0));
        assert!(old.is_stale("h", |_| false));
    }
}
