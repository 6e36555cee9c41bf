//! `doctor()` and `readWal()`: a member's data dir over any backend. A data dir is a Node
//! path (the data dir, its `member` folder or `member/wal`, resolved by
//! [`crate::datadir::classify`]) or `{ snap, wal }`, each a `StorageSpec` as
//! `Snapshotter.open` takes (Node path, `{ memory }`, `{ opfs }`, `{ backend }`). Converts and
//! delegates to [`crate::doctor`] and [`crate::waldump`].

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::dyn_storage::DynStorage;
use super::inspect::json::to_js_value;
use super::snapshotter::storage_from_spec;
use crate::datadir::{self, DirKind};
use crate::error::{Error, Result};
use crate::js::util::get;
use crate::storage::node::NodeStorage;
use crate::waldump::{DumpQuery, WalDump};
use crate::walpayload::DEFAULT_ENTRY_TYPES;
use crate::{EtcdVersion, doctor};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A member's data dir: a Node path (the data dir, its `member` folder or `member/wal`), or
 *  the member's two folders as storages. `snap` may be omitted for `readWal`. */
/** A data dir: a Node path, or its two folders as storages (`name`: how the doctor's report
 *  and recommendation call it; default "member N"). */
export type DataDirSpec = string | { snap?: StorageSpec; wal: StorageSpec; name?: string };
/** A u64 or i64: a number when it is a safe integer, else a bigint. */
export type Int = number | bigint;
/** The etcd release whose rules apply; default "3.5". */
export type EtcdRelease = "3.4" | "3.5";
export interface DoctorOptions { etcd?: EtcdRelease; }
/** etcd's bootstrap step, in etcd's order. */
export interface DoctorStep { id: string; outcome: string; cite: string; }
export interface DoctorWarning { kind: string; message: string; names: string[]; }
export interface DoctorSnapRef { term: Int; index: Int; }
export type DoctorVerdict =
  | { verdict: "starts"; snapshot: DoctorSnapRef | null; snapshotFile: string | null;
      consistentIndex: Int; dbReplacedBy: string | null; entriesToReplay: Int;
      entriesAppliedToMvcc: Int; commit: Int; lastIndex: Int; term: Int;
      revision: { kind: "known"; value: Int } | { kind: "unknown"; value: string } }
  | { verdict: "fails"; step: string; level: "fatal" | "panic"; msg: string;
      error: string | null; capnslog: string | null }
  | { verdict: "new_member" };
export interface DoctorDbFacts {
  name: string; size: Int; openError: string | null; consistentIndex: Int; term: Int | null;
  revision: Int; liveKeys: Int; leases: Int[];
}
export interface DoctorSnapFact {
  name: string; term: Int | null; index: Int | null; error: string | null;
  /** The WAL records it (at or below the commit). */
  inWal: boolean;
  /** LoadNewestAvailable tried to read it. */
  tried: boolean;
}
export interface DoctorFacts {
  snaps: DoctorSnapFact[]; walSnapshots: DoctorSnapRef[] | null; db: DoctorDbFacts | null;
  snapDb: DoctorDbFacts | null; memberId: Int | null; clusterId: Int | null;
  commit: Int | null; term: Int | null; lastIndex: Int | null; walSegments: string[];
  /** etcd 3.6's MinimalEtcdVersion of the entries after the snapshot (etcdutl migrate). */
  walMinimalVersion: DoctorWalVersion | null;
}
export interface DoctorWalVersion {
  /** "3.5.0"; null with no entries, or where etcd 3.6's walk panics (`error`). */
  version: string | null;
  /** The message, field or enum value that needs it. */
  by: string | null;
  /** The first entry that carries it. */
  index: Int | null;
  error: string | null;
}
export interface DoctorMember {
  /** The path given, the spec's `name`, or `member N` for a `{ snap, wal }` spec. */
  dataDir: string;
  /** The verdict in a sentence ("etcd 3.5 starts from snapshot 2/63 ..."). */
  summary: string;
  etcd: EtcdRelease;
  verdict: DoctorVerdict;
  steps: DoctorStep[];
  warnings: DoctorWarning[];
  facts: DoctorFacts;
}
export interface DoctorRecommendation {
  member: string | null; reasons: string[];
  ranking: { name: string; starts: boolean; commit: Int; term: Int; revision: Int | null;
             consistentIndex: Int; clusterId: string | null }[];
  excluded: [string, string][];
}
export interface DoctorReport {
  members: DoctorMember[];
  /** With several data dirs: which member to recover from. */
  recommendation: DoctorRecommendation | null;
}
export interface ReadWalOptions {
  etcd?: EtcdRelease;
  /** Read from this index instead of from the snapshot `Load` picks. */
  startIndex?: Int;
  /** Only entries at or below this index. */
  endIndex?: Int;
  /** etcd-dump-logs' --entry-type list; default "Normal,ConfigChange". */
  entryTypes?: string;
  /** A page of the passing entries: skip `offset`, return at most `limit`. */
  offset?: Int;
  limit?: Int;
}
export interface WalEntry {
  term: Int; index: Int;
  /** etcd-dump-logs' type column: "norm" or "conf". */
  type: string;
  kind: "ConfigChange" | "InternalRaftRequest" | "Request" | "UnknownNormal" | "ConfChangeV2" | "UnknownType";
  /** etcd-dump-logs' data column. */
  text: string;
  request: { message: string; fields: Record<string, unknown> } | null;
}
export interface WalDumpResult {
  start: "snapshot" | "index"; startIndex: Int | null;
  snapshot: { name: string; term: Int; index: Int;
              confState: { voters: string[]; learners: string[]; votersOutgoing: string[];
                           learnersNext: string[]; autoLeave: boolean } } | null;
  nodeId: string; clusterId: string; term: Int; commitIndex: Int; vote: string;
  /** ReadAll's entries (within endIndex) and the last index. */
  entries: Int; lastIndex: Int | null;
  entryTypes: string; ignoredEntryTypes: string[]; readError: string | null;
  segments: { name: string; seq: Int; index: Int; size: Int }[];
  /** The requested page of the entries the filters pass. */
  list: WalEntry[];
  /** How many entries the filters pass in all. */
  count: Int;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `doctor`'s options (typed `DoctorOptions` in TS).
    #[wasm_bindgen(typescript_type = "DoctorOptions")]
    pub type DoctorOptionsArg;
    /// `readWal`'s options (typed `ReadWalOptions` in TS).
    #[wasm_bindgen(typescript_type = "ReadWalOptions")]
    pub type ReadWalOptionsArg;
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// The member's snap and wal storages (`snap` `None` when a `{ wal }` spec omits it).
async fn member(spec: &JsValue, need_snap: bool) -> Result<(Option<DynStorage>, DynStorage)> {
    if let Some(dir) = spec.as_string() {
        let dir = dir.trim_end_matches('/').to_owned();
        let kind = datadir::classify(&NodeStorage::new(&dir)?).await?;
        let (snap, wal) = match kind {
            DirKind::DataDir => (format!("{dir}/member/snap"), format!("{dir}/member/wal")),
            DirKind::Member => (format!("{dir}/snap"), format!("{dir}/wal")),
            DirKind::Wal => {
                let parent = dir.rsplit_once('/').map_or(".", |(p, _)| p);
                (format!("{parent}/snap"), dir.clone())
            }
            DirKind::Unknown => {
                return Err(invalid(format!(
                    "{dir}: not a data dir (no member, snap or wal folder, no WAL segment)"
                )));
            }
        };
        let snap = NodeStorage::new(&snap)?;
        let snap = if need_snap || crate::Storage::list(&snap).await.is_ok() {
            Some(DynStorage::new(snap))
        } else {
            None
        };
        return Ok((snap, DynStorage::new(NodeStorage::new(&wal)?)));
    }
    if !spec.is_object() {
        return Err(invalid(
            "dataDir: expected a path or { snap: StorageSpec, wal: StorageSpec }",
        ));
    }
    let wal = get(spec, "wal");
    if wal.is_undefined() {
        return Err(invalid("dataDir.wal: a StorageSpec is required"));
    }
    let wal = storage_from_spec(wal).await?;
    let snap = get(spec, "snap");
    let snap = if snap.is_undefined() {
        if need_snap {
            return Err(invalid("dataDir.snap: a StorageSpec is required"));
        }
        None
    } else {
        Some(storage_from_spec(snap).await?)
    };
    Ok((snap, wal))
}

fn version(options: &JsValue) -> Result<EtcdVersion> {
    match get(options, "etcd").as_string() {
        Some(v) => v.parse(),
        None if get(options, "etcd").is_undefined() => Ok(EtcdVersion::default()),
        None => Err(invalid("options.etcd: expected \"3.4\" or \"3.5\"")),
    }
}

fn u64_opt(options: &JsValue, name: &str) -> Result<Option<u64>> {
    let v = get(options, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(n) = js_sys::BigInt::new(&v)
        .ok()
        .and_then(|b| b.to_string(10).ok())
        .and_then(|s| String::from(s).parse::<u64>().ok())
    {
        return Ok(Some(n));
    }
    Err(invalid(format!(
        "options.{name}: expected a non-negative integer"
    )))
}

fn options_of(o: Option<JsValue>) -> JsValue {
    o.unwrap_or(JsValue::UNDEFINED)
}

fn promise<F>(f: F) -> Promise
where
    F: std::future::Future<Output = std::result::Result<JsValue, JsValue>> + 'static,
{
    future_to_promise(f)
}

/// What etcd does when it starts on the data dir(s): the report `etcd-snap doctor -w json`
/// prints (`members[]` with `summary`, `verdict`, `steps`, `warnings`, `facts`; and with
/// several data dirs, `recommendation`). Reads only.
#[wasm_bindgen(unchecked_return_type = "Promise<DoctorReport>")]
pub fn doctor(
    #[wasm_bindgen(unchecked_param_type = "DataDirSpec | DataDirSpec[]")] data_dir: JsValue,
    options: Option<DoctorOptionsArg>,
) -> Promise {
    let options = options_of(options.map(JsValue::from));
    promise(async move {
        let v = version(&options)?;
        let specs: Vec<JsValue> = if js_sys::Array::is_array(&data_dir) {
            js_sys::Array::from(&data_dir).iter().collect()
        } else {
            vec![data_dir]
        };
        let mut members = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let name = spec
                .as_string()
                .or_else(|| get(spec, "name").as_string())
                .unwrap_or_else(|| format!("member {}", i + 1));
            let (snap, wal) = member(spec, true).await?;
            let snap = snap.ok_or_else(|| invalid("dataDir.snap: a StorageSpec is required"))?;
            members.push((name, doctor::diagnose(snap, wal, v).await?));
        }
        let rec = (members.len() > 1).then(|| doctor::choose_member(&members));
        to_js_value(&datadir::doctor_report(&members, rec.as_ref()))
    })
}

/// The member's WAL as `etcd-snap wal -w json` shows it (etcd-dump-logs' view): the head
/// (snapshot, metadata, HardState, counts), `segments`, and a page of the entries the
/// `entryTypes` filters pass (`offset`, `limit`; `count` counts them all). Reads only.
#[wasm_bindgen(js_name = readWal, unchecked_return_type = "Promise<WalDumpResult>")]
pub fn read_wal(
    #[wasm_bindgen(unchecked_param_type = "DataDirSpec")] data_dir: JsValue,
    options: Option<ReadWalOptionsArg>,
) -> Promise {
    let options = options_of(options.map(JsValue::from));
    promise(async move {
        let v = version(&options)?;
        let q = DumpQuery {
            start_index: u64_opt(&options, "startIndex")?.unwrap_or(0),
            end_index: u64_opt(&options, "endIndex")?,
            entry_types: get(&options, "entryTypes")
                .as_string()
                .unwrap_or_else(|| DEFAULT_ENTRY_TYPES.to_owned()),
        };
        let offset = u64_opt(&options, "offset")?.unwrap_or(0);
        let limit = u64_opt(&options, "limit")?.unwrap_or(u64::MAX);
        let (snap, wal) = member(&data_dir, false).await?;
        let snap = if q.start_index == 0 { snap } else { None };
        let dump = WalDump::open(snap, wal, &q, v).await?;
        let mut list = Vec::new();
        let mut seen = 0u64;
        let count = dump
            .visit(&mut |e| {
                if seen >= offset && seen - offset < limit {
                    list.push(e);
                }
                seen += 1;
                Ok(())
            })
            .await?;
        let mut doc = serde_json::to_value(dump.head()).unwrap_or_default();
        if let Some(o) = doc.as_object_mut() {
            o.insert(
                "list".into(),
                serde_json::to_value(&list).unwrap_or_default(),
            );
            o.insert("count".into(), count.into());
            o.insert(
                "segments".into(),
                serde_json::to_value(dump.segments()).unwrap_or_default(),
            );
        }
        to_js_value(&doc)
    })
}
