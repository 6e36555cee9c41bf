// The viewer's decoding worker: every byte of a snapshot or db is read and decoded here,
// through the etcd-snap package's browser entry, so the page stays responsive on large dbs.
// Dbs are read a slice at a time (InspectDb over a Blob uses FileReaderSync), never whole.
//
// Protocol: the page posts { id, op, ...args }; the worker answers { id, ok: true, value } or
// { id, ok: false, error: { message, code } }.
import init, * as etcd from './pkg/browser.js';

const ready = init();
/** Viewer folders kept in OPFS live under this directory. */
const KEEP_ROOT = 'etcd-snap-viewer';

/** Kinds opened as a bbolt db (as ui/kinds.js): judged when the folder is listed. */
const DB_KINDS = new Set(['db', 'live-db', 'other']);

/** The open folder: name -> Blob (a File, or an OPFS file's snapshot). */
let folder = new Map();
/** The open member's `wal` folder (empty when the member has none): name -> Blob. */
let walFolder = new Map();
/** Open dbs by id. */
const dbs = new Map();
let nextDb = 1;

const errInfo = (e) => ({
  message: (e && e.message) || String(e),
  code: (e && e.code) || null,
});

/** A read-only storage backend over the folder's Blobs, so `Snapshotter.list()` can judge
 *  every `.snap` with etcd's own checks and no file can be renamed or changed by viewing. */
function readOnlyBackend(files) {
  const notFound = (name) => Object.assign(new Error(`open ${name}: no such file or directory`), { code: 'ENOENT' });
  const denied = (op) => () => { throw Object.assign(new Error(`${op}: the viewer never changes opened files`), { code: 'ERR_PERMISSION_DENIED' }); };
  const get = (name) => { const f = files.get(name); if (!f) throw notFound(name); return f; };
  return {
    list: () => [...files.keys()],
    stat: (name) => ({ size: get(name).size, isDir: false }),
    read: async (name) => new Uint8Array(await get(name).arrayBuffer()),
    openRead: (name) => get(name).stream(),
    createAtomic: denied('create'),
    rename: denied('rename'),
    remove: denied('remove'),
    syncDir: () => {},
    lock: () => ({ release() {} }),
  };
}

/** Lists the folder with etcd's verdicts and decodes each readable `.snap`. */
async function describeFolder(label) {
  const s = await etcd.Snapshotter.open(
    { backend: readOnlyBackend(folder) },
    { lock: 'none', cleanTmpOnOpen: false, maxBroken: null },
  );
  try {
    const list = await s.list();
    const files = [];
    for (const f of list) {
      const item = {
        name: f.name,
        kind: f.kind,
        size: Number(f.size),
        term: f.term === null ? null : String(f.term),
        index: f.index === null ? null : String(f.index),
        verdict: f.verdict,
        code: f.code,
      };
      if (f.kind === 'snap' && f.verdict === 'ok') {
        try {
          const snap = await s.read(f.name);
          item.snapshot = {
            term: String(snap.term),
            index: String(snap.index),
            confState: {
              voters: snap.confState.voters.map(String),
              learners: snap.confState.learners.map(String),
              votersOutgoing: snap.confState.votersOutgoing.map(String),
              learnersNext: snap.confState.learnersNext.map(String),
              autoLeave: snap.confState.autoLeave,
            },
            dataNil: snap.data === null,
            dataLen: snap.data ? snap.data.length : 0,
            // The db a follower receives with this snapshot (`%016x.snap.db`).
            dbName: etcd.dbName(snap.index),
          };
          if (snap.data && snap.data.length) {
            try {
              item.v2 = etcd.v2StoreInfo(snap.data);
              item.v2.currentIndex = String(item.v2.currentIndex);
              item.v2.currentVersion = String(item.v2.currentVersion);
            } catch (e) {
              item.v2Error = errInfo(e);
            }
          }
        } catch (e) {
          item.verdict = errInfo(e).message;
          item.code = errInfo(e).code;
        }
      }
      // A db is judged at listing time by the rule `etcd-snap ls` applies (the library's
      // listing verdict: meta pages, length, compression), not only once it is opened.
      if (DB_KINDS.has(f.kind)) {
        const v = etcd.dbListingVerdict(folder.get(f.name));
        item.verdict = v.verdict;
        item.code = v.code;
      }
      // What etcd's Load would rename an unreadable .snap to.
      if (f.kind === 'snap' && item.verdict !== 'ok') item.brokenName = etcd.brokenName(f.name);
      files.push(item);
    }
    // Without a WAL: the .snap etcd's Load would return, by the library's rule (no rename
    // happens here). loadPick reads only .snap verdicts: db verdicts are the listing's.
    // With a WAL, etcd starts with LoadNewestAvailable: the doctor's pick replaces it.
    const snaps = files.filter((x) => !DB_KINDS.has(x.kind));
    const out = { label, files, load: etcd.loadPick(snaps), loadRule: 'Load' };
    if (walFolder.size) {
      out.member = await describeMember();
      // etcd's own pick when the doctor found one; else (a WAL that does not read) Load()'s,
      // labelled as such, under the doctor's verdict.
      if (out.member.pick) {
        out.load = out.member.pick;
        out.loadRule = 'LoadNewestAvailable';
      }
    }
    return out;
  } finally {
    s.close();
  }
}

/** The member's two folders as read-only storages, for `doctor` and `readWal`. */
const memberSpec = () => ({
  snap: { backend: readOnlyBackend(folder) },
  wal: { backend: readOnlyBackend(walFolder) },
});

/** Integers (numbers or bigints) as strings, for the page. */
const str = (v) => (v === null || v === undefined ? null : String(v));

/** The doctor's report on the open member (the verdict sentence is the library's), the
 *  snapshot etcd really starts from (LoadNewestAvailable), and the WAL's shape. */
async function describeMember() {
  const out = { verdict: null, summary: null, pick: null, error: null, wal: null };
  try {
    const rep = await etcd.doctor(memberSpec());
    const m = rep.members[0];
    out.summary = m.summary;
    out.verdict = m.verdict.verdict;
    out.steps = m.steps;
    out.warnings = m.warnings;
    out.walVersion = m.facts.walMinimalVersion ?? null;
    out.walSnapshots = (m.facts.walSnapshots || []).map((s) => ({ term: str(s.term), index: str(s.index) }));
    out.memberId = m.facts.memberId === null ? null : BigInt(m.facts.memberId).toString(16);
    out.clusterId = m.facts.clusterId === null ? null : BigInt(m.facts.clusterId).toString(16);
    // LoadNewestAvailable's pick: the snapshot etcd starts from, else the newest .snap that
    // reads and that the WAL records (the step it took before failing later).
    out.pick = (m.verdict.verdict === 'starts' && m.verdict.snapshotFile)
      || m.facts.snaps.find((s) => s.error === null && s.inWal && s.tried)?.name
      || null;
  } catch (e) {
    out.error = errInfo(e);
  }
  try {
    const w = await etcd.readWal(memberSpec(), { limit: 0 });
    out.wal = {
      segments: w.segments.map((s) => ({ name: s.name, seq: str(s.seq), index: str(s.index), size: Number(s.size) })),
      snapshot: w.snapshot ? { name: w.snapshot.name, term: str(w.snapshot.term), index: str(w.snapshot.index) } : null,
      hardState: { term: str(w.term), commit: str(w.commitIndex), vote: w.vote },
      nodeId: w.nodeId, clusterId: w.clusterId,
      entries: Number(w.entries), lastIndex: str(w.lastIndex), count: Number(w.count),
      readError: w.readError,
    };
  } catch (e) {
    out.walError = errInfo(e);
  }
  return out;
}

/** What the entries after the snapshot are, by kind over index: `buckets` equal index
 *  ranges, each with a count per kind (put, txn, delete_range, ..., conf). */
async function walTimeline({ buckets = 60 }) {
  const w = await etcd.readWal(memberSpec(), { entryTypes: 'Normal,ConfigChange' });
  const list = w.list;
  if (!list.length) return { first: null, last: null, buckets: [], kinds: [] };
  const first = Number(list[0].index);
  const last = Number(list[list.length - 1].index);
  const width = Math.max(1, Math.ceil((last - first + 1) / buckets));
  const out = [];
  const kinds = new Set();
  for (const e of list) {
    const i = Math.floor((Number(e.index) - first) / width);
    out[i] ??= { from: first + i * width, to: Math.min(last, first + (i + 1) * width - 1), counts: {} };
    const f = e.request?.fields || {};
    const kind = e.kind === 'ConfigChange' ? 'conf'
      : e.kind === 'Request' ? 'v2'
      : Object.keys(f).find((k) => k !== 'header') || (e.kind === 'UnknownNormal' ? 'unknown' : 'empty');
    kinds.add(kind);
    out[i].counts[kind] = (out[i].counts[kind] || 0) + 1;
  }
  return { first, last, width, buckets: out.filter(Boolean), kinds: [...kinds].sort() };
}

/** One page of the WAL's entries (decoded here, shown as etcd-dump-logs shows them). */
async function walPage({ offset = 0, limit = 100, entryTypes = 'Normal,ConfigChange' }) {
  const w = await etcd.readWal(memberSpec(), { offset, limit, entryTypes });
  return {
    count: Number(w.count),
    offset,
    list: w.list.map((e) => ({ term: str(e.term), index: str(e.index), type: e.type, kind: e.kind, text: e.text })),
  };
}

/** Opens db `name`; `verifyTrailer: false` skips the sha256 check ("open anyway"). */
function openDb(name, verifyTrailer = true) {
  const blob = folder.get(name);
  if (!blob) throw Object.assign(new Error(`${name}: not in the open folder`), { code: 'ERR_NOT_FOUND' });
  const db = etcd.InspectDb.open(blob, { verifyTrailer });
  const id = nextDb++;
  dbs.set(id, db);
  const out = { id, name, size: blob.size, layout: db.layout(), verifyTrailer, quota: etcd.etcdQuota() };
  const attempt = (key, f) => {
    try { out[key] = f(); } catch (e) { out[key + 'Error'] = errInfo(e); }
  };
  attempt('status', () => db.status());
  // Whose `snapshot status` the numbers are (etcd 3.6 counts live keys, adds `version`).
  attempt('schema', () => db.schemaVersion());
  // etcdctl's own table and TOTAL SIZE wording, from the library.
  if (out.status) {
    out.statusTable = etcd.etcdctlStatusTable(out.status);
    out.statusSize = etcd.etcdctlBytes(out.status.totalSize);
  }
  if (out.statusError) attempt('problems', () => db.check());
  attempt('buckets', () => db.buckets());
  attempt('cluster', () => db.clusterInfo());
  attempt('index', () => db.index());
  // Live keys, as `etcdctl get "" --prefix --count-only` counts them (the index counts
  // every key with a stored revision, deleted ones too).
  if (out.index) attempt('liveKeys', () => db.keys({ liveOnly: true, count: true, limit: 1 }).total);
  if (out.cluster && out.cluster.leases.length && out.index) attempt('leaseKeys', () => db.leaseKeys());
  out.warnings = db.warnings;
  return out;
}

function db(id) {
  const d = dbs.get(id);
  if (!d) throw Object.assign(new Error('the db was closed'), { code: 'ERR_INVALID_ARGUMENT' });
  return d;
}

async function keepRoot(create) {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(KEEP_ROOT, { create });
}

/** Copies the open folder into OPFS through the OPFS backend (atomic, durable writes). */
async function keep(label) {
  const spec = { opfs: `${KEEP_ROOT}/${label}` };
  let bytes = 0;
  for (const [name, blob] of folder) bytes += await etcd.opfsWriteFile(spec, name, blob);
  return { label, files: folder.size, bytes };
}

async function listKept() {
  let dir;
  try { dir = await keepRoot(false); } catch { return []; }
  const out = [];
  for await (const [name, h] of dir.entries()) {
    if (h.kind !== 'directory') continue;
    let files = 0, bytes = 0;
    for await (const [, f] of h.entries()) {
      if (f.kind === 'file') { files++; bytes += (await f.getFile()).size; }
    }
    out.push({ label: name, files, bytes });
  }
  return out.sort((a, b) => a.label.localeCompare(b.label));
}

async function openKept(label) {
  const dir = await (await keepRoot(false)).getDirectoryHandle(label);
  const files = new Map();
  for await (const [name, h] of dir.entries()) {
    if (h.kind === 'file') files.set(name, await h.getFile());
  }
  return files;
}

/** Removes a kept folder: each file through the OPFS backend, then the empty directory. */
async function removeKept(label) {
  const spec = { opfs: `${KEEP_ROOT}/${label}` };
  const dir = await (await keepRoot(false)).getDirectoryHandle(label);
  const names = [];
  for await (const [name, h] of dir.entries()) if (h.kind === 'file') names.push(name);
  for (const n of names) await etcd.opfsRemoveFile(spec, n);
  await (await keepRoot(false)).removeEntry(label, { recursive: true });
  return true;
}

function closeAllDbs() {
  for (const d of dbs.values()) d.free();
  dbs.clear();
}

const ops = {
  async openFolder({ label, files, wal = [] }) {
    closeAllDbs();
    folder = new Map(files.map((f) => [f.name, f]));
    walFolder = new Map(wal.map((f) => [f.name, f]));
    return describeFolder(label);
  },
  walTimeline: (args) => walTimeline(args),
  /** Several members (data dirs found in one folder): the doctor on each and which one to
   *  recover from (the library's choose_member), read-only. */
  async compareMembers({ members }) {
    const asMap = (files) => new Map((files || []).map((f) => [f.name, f]));
    const rep = await etcd.doctor(members.map((m) => ({
      name: m.label,
      snap: { backend: readOnlyBackend(asMap(m.files)) },
      wal: { backend: readOnlyBackend(asMap(m.wal)) },
    })));
    return {
      members: rep.members.map((x) => ({ label: x.dataDir, summary: x.summary, verdict: x.verdict.verdict })),
      recommendation: rep.recommendation
        ? { member: rep.recommendation.member, reasons: rep.recommendation.reasons, excluded: rep.recommendation.excluded }
        : null,
    };
  },
  walPage: (args) => walPage(args),
  async openKept({ label }) {
    closeAllDbs();
    walFolder = new Map();
    folder = await openKept(label);
    return describeFolder(label);
  },
  async snapFile({ name }) {
    const blob = folder.get(name);
    return etcd.decodeSnap(new Uint8Array(await blob.arrayBuffer()));
  },
  openDb: ({ name, verifyTrailer }) => openDb(name, verifyTrailer),
  // After a failed open: does the structure still read without the sha256 check? (The
  // viewer then offers "open anyway".)
  canOpenUnverified({ name }) {
    try { etcd.InspectDb.open(folder.get(name), { verifyTrailer: false }).free(); return true; } catch { return false; }
  },
  closeDb({ dbId }) {
    const d = dbs.get(dbId);
    if (d) { d.free(); dbs.delete(dbId); }
    return true;
  },
  keys: ({ dbId, prefix, after, limit, count, contains, liveOnly, sort, offset }) => db(dbId).keys({ prefix, after, limit, count, contains, liveOnly, sort, offset }),
  // 1000 revisions at a time (newest first after skipping `offset`), values cut at 256 KiB
  // (a hostile key may have many large ones).
  history: ({ dbId, key, offset = 0 }) => db(dbId).history(key, { limit: 1000, maxValueBytes: 256 << 10, offset }),
  value: ({ dbId, key, main, sub }) => db(dbId).value(key, main, sub),
  space: ({ dbId, depth }) => db(dbId).spaceByPrefix('/', depth),
  keep: ({ label }) => keep(label),
  listKept: () => listKept(),
  removeKept: ({ label }) => removeKept(label),
  version: () => etcd.version(),
  // etcd's kind of each name (snap, db, live-db, broken, ...), for choosing what to open.
  kinds: ({ names }) => names.map((n) => etcd.nameKind(n)),
};

self.onmessage = async (ev) => {
  const { id, op, ...args } = ev.data;
  try {
    await ready;
    const f = ops[op];
    if (!f) throw new Error(`unknown op ${op}`);
    const value = await f(args);
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, error: errInfo(e) });
  }
};
