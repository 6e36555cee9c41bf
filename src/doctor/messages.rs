//! What etcd logs when its bootstrap fails, in each logger's words.
//!
//! etcd 3.4's default logger is capnslog (`--logger=capnslog`; etcd embed/config.go:442), which
//! prints `<package>: <text>`; with `--logger=zap` (3.4) and always in 3.5, zap prints a JSON
//! line whose `msg` is fixed and whose `error` field is the error's text. A [`Failure`] carries
//! both, so a caller can match either log.

use serde::Serialize;

use super::StepId;
use crate::EtcdVersion;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `Fatal`: logged, exit status 1.
    Fatal,
    /// `Panic`: logged, then a Go panic (exit status 2).
    Panic,
}

/// etcd's failure: the step and the exact log words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The bootstrap step that fails.
    pub step: StepId,
    /// Fatal or panic.
    pub level: Level,
    /// The zap `msg` (3.5; 3.4 with `--logger=zap`).
    pub msg: String,
    /// The zap `error` field, as etcd words the error (`None` where etcd logs none).
    pub error: Option<String>,
    /// 3.4's default capnslog line without its timestamp and level letter:
    /// `<package>: <text>` (`None` for 3.5, which has no capnslog).
    pub capnslog: Option<String>,
}

impl Failure {
    fn new(
        v: EtcdVersion,
        step: StepId,
        level: Level,
        msg: &str,
        error: Option<String>,
        capnslog: String,
    ) -> Self {
        Failure {
            step,
            level,
            msg: msg.to_owned(),
            error,
            capnslog: (v == EtcdVersion::V3_4).then_some(capnslog),
        }
    }

    /// The line a person reads: 3.4's capnslog text, or 3.5's `msg` with its `error`.
    pub fn line(&self) -> String {
        match (&self.capnslog, &self.error) {
            (Some(c), _) => c.clone(),
            (None, Some(e)) => format!("{}: {e}", self.msg),
            (None, None) => self.msg.clone(),
        }
    }

    /// `NewServer` returned `err`: etcdmain ends with it (etcd etcdmain/etcd.go:271, 3.5:
    /// v3.5.16 server/etcdmain/etcd.go:204 `lg.Fatal("discovery failed", zap.Error(err))`).
    pub fn new_server(v: EtcdVersion, step: StepId, err: &str) -> Self {
        Failure::new(
            v,
            step,
            Level::Fatal,
            "discovery failed",
            Some(err.to_owned()),
            format!("etcdmain: {err}"),
        )
    }

    /// `st.Recovery(snapshot.Data)` failed (etcd etcdserver/server.go:453; 3.4's zap logs no
    /// error field, 3.5's does: v3.5.16 server/etcdserver/server.go:503).
    pub fn v2_recovery(v: EtcdVersion, err: &str) -> Self {
        let mut f = Failure::new(
            v,
            StepId::V2StoreRecovery,
            Level::Panic,
            "failed to recover from snapshot",
            Some(err.to_owned()),
            format!("etcdserver: recovered store from snapshot error: {err}"),
        );
        if v == EtcdVersion::V3_4 {
            f.error = None;
        }
        f
    }

    /// `recoverSnapshotBackend` failed (etcd etcdserver/server.go:471).
    pub fn recover_backend(v: EtcdVersion, err: &str) -> Self {
        Failure::new(
            v,
            StepId::RecoverBackend,
            Level::Panic,
            "failed to recover v3 backend from snapshot",
            Some(err.to_owned()),
            format!("etcdserver: recovering backend from snapshot error: {err}"),
        )
    }

    /// `bolt.Open` failed in `newBackend` (etcd mvcc/backend/backend.go:159).
    pub fn open_backend(v: EtcdVersion, step: StepId, path: &str, err: &str) -> Self {
        Failure::new(
            v,
            step,
            Level::Panic,
            "failed to open database",
            Some(err.to_owned()),
            format!("mvcc/backend: cannot open database at {path} ({err})"),
        )
    }

    /// `wal.Open` failed in `readWAL` (etcd etcdserver/storage.go:93).
    pub fn open_wal(v: EtcdVersion, err: &str) -> Self {
        Failure::new(
            v,
            StepId::OpenWal,
            Level::Fatal,
            "failed to open WAL",
            Some(err.to_owned()),
            format!("etcdserver: open wal error: {err}"),
        )
    }

    /// `ReadAll` failed with an error `Repair` does not take, or again after a repair (etcd
    /// etcdserver/storage.go:106).
    pub fn read_wal(v: EtcdVersion, err: &str) -> Self {
        Failure::new(
            v,
            StepId::ReadWal,
            Level::Fatal,
            "failed to read WAL, cannot be repaired",
            Some(err.to_owned()),
            format!("etcdserver: read wal error ({err}) and cannot be repaired"),
        )
    }

    /// `wal.Repair` returned false (etcd etcdserver/storage.go:113).
    pub fn repair_wal(v: EtcdVersion, err: &str) -> Self {
        Failure::new(
            v,
            StepId::RepairWal,
            Level::Fatal,
            "failed to repair WAL",
            Some(err.to_owned()),
            format!("etcdserver: WAL error ({err}) cannot be repaired"),
        )
    }

    /// raft's `loadState` (etcd raft/raft.go:1572; v3.5.16 raft/raft.go:1698): the HardState's
    /// commit is outside the log. 3.4 under capnslog restarts raft before etcd sets raft's
    /// logger (etcd etcdserver/raft.go:131), so raft's default Go logger prints it:
    /// `raft<date> <time> PANIC: <text>` (etcd raft/logger.go:52); the field holds the part
    /// after the timestamp.
    pub fn commit_out_of_range(v: EtcdVersion, id: u64, commit: u64, lo: u64, hi: u64) -> Self {
        let text = format!("{id:x} state.commit {commit} is out of range [{lo}, {hi}]");
        Failure::new(
            v,
            StepId::RaftRestart,
            Level::Panic,
            &text,
            None,
            format!("PANIC: {text}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_logger_has_its_words() {
        let e = "wal: file not found";
        let f34 = Failure::open_wal(EtcdVersion::V3_4, e);
        let f35 = Failure::open_wal(EtcdVersion::V3_5, e);
        assert_eq!(
            (f34.msg.as_str(), f34.error.as_deref()),
            ("failed to open WAL", Some(e))
        );
        assert_eq!(
            f34.capnslog.as_deref(),
            Some("etcdserver: open wal error: wal: file not found")
        );
        assert_eq!(f35.capnslog, None);
        assert_eq!(f35.line(), "failed to open WAL: wal: file not found");
        // 3.4's zap logs no error field for the v2 store; 3.5's does.
        assert_eq!(Failure::v2_recovery(EtcdVersion::V3_4, "x").error, None);
        assert_eq!(
            Failure::v2_recovery(EtcdVersion::V3_5, "x")
                .error
                .as_deref(),
            Some("x")
        );
        let r = Failure::commit_out_of_range(EtcdVersion::V3_5, 0xab, 9, 5, 7);
        assert_eq!(r.msg, "ab state.commit 9 is out of range [5, 7]");
        assert_eq!(r.level, Level::Panic);
    }
}
