//! `etcdutl check v2store` (etcd v3.5.18+ etcdutl/etcdutl/check_command.go
//! `checkV2StoreDataDir`): does the v2 store of the snapshot etcd would load hold anything but
//! membership? Such content blocks the upgrade to 3.6, which refuses to start on it with its
//! default `--v2-deprecation=write-only` (v3.6.9 server/storage/util.go:34).

use serde::Serialize;

use super::snapdir;
use crate::inspect::{CustomNode, MetaOnlyRule, v2store};
use crate::storage::ReadOnly;
use crate::wal::Wal;
use crate::{EtcdVersion, Result, Storage};

/// What `etcdutl check v2store` prints when it finds nothing (stdout).
pub const V2STORE_CLEAN: &str = "No custom content found in v2store.";
/// Its error when it finds content (`Error: ` + this on stderr, exit status 1).
pub const V2STORE_CUSTOM: &str = "detected custom content in v2store";

/// The result of [`check_v2store`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct V2StoreCheck {
    /// The `.snap` whose v2 store was checked; `None` when there is none to check (no WAL, no
    /// snapshot), which etcdutl reports as clean.
    pub snapshot: Option<String>,
    /// The top-level nodes holding custom content (empty: clean).
    pub custom: Vec<CustomNode>,
}

/// etcdutl's steps, read-only: `wal.ValidSnapshotEntries` (no WAL files: nothing to check),
/// `LoadNewestAvailable` (no snapshot: nothing to check; unreadable candidates are skipped,
/// not renamed), `Recovery` of its v2 store, then `IsMetaStoreOnly` under `rule` (etcdutl
/// v3.5.22+ applies [`MetaOnlyRule::AuthSkeleton`]). Errors are etcd's (a damaged WAL, v2
/// store JSON `Recovery` refuses).
pub async fn check_v2store<S: Storage, W: Storage>(
    snap: S,
    wal: W,
    rule: MetaOnlyRule,
) -> Result<V2StoreCheck> {
    let none = V2StoreCheck {
        snapshot: None,
        custom: Vec::new(),
    };
    let wal = match Wal::open(ReadOnly::new(wal)).await {
        Ok(w) => w,
        Err(e) if e.is_not_found() => return Ok(none),
        Err(e) => return Err(e),
    };
    if wal.listing().segments.is_empty() {
        return Ok(none); // wal.ErrFileNotFound
    }
    let wal_snaps = wal.valid_snapshot_entries(EtcdVersion::V3_5).await?;
    let sn = snapdir::open_read_only(snap).await?;
    let names = snapdir::sorted_names(sn.storage()).await?;
    let Some(chosen) = snapdir::load_newest_available(&sn, &names, &wal_snaps)
        .await?
        .chosen
    else {
        return Ok(none);
    };
    if let Some(e) = super::v2::recovery_error(&chosen.data) {
        // etcdutl's words (check_command.go:99).
        return Err(crate::Error::InvalidArgument(format!(
            "failed to recover v2store from snapshot: {e}"
        )));
    }
    Ok(V2StoreCheck {
        custom: v2store::custom_content(&chosen.data, rule)?,
        snapshot: Some(chosen.name),
    })
}
