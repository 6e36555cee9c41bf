// The viewer's page logic: picking files, talking to the decoding worker, rendering.
// Every piece of file data is rendered as text (see ui/dom.js); nothing here parses bytes.
import { h, fill, badge } from './ui/dom.js';
import { int, bytes, siBytes, hex, keyText, valueText, prettyJson, hexDump } from './ui/format.js';
import { spaceChart } from './ui/chart.js';

const $ = (id) => document.getElementById(id);
const PAGE = 100;

// ---------------------------------------------------------------------------------------
// Worker RPC

const pending = new Map();
let seq = 0;
let worker;

/** (Re)starts the decoding worker. A trap in the wasm (a bug, never bad input) leaves that
 *  instance unusable, so the page starts a fresh worker and asks to reopen the file. */
function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'etcd-snap-decoder' });
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.ok) return p.resolve(data.value);
    const err = Object.assign(new Error(data.error.message), { code: data.error.code });
    if (!data.error.code && /unreachable|RuntimeError/.test(data.error.message)) {
      err.message = `The decoder crashed (${data.error.message}) and was restarted; open the folder or file again.`;
      restartWorker();
    }
    p.reject(err);
  };
  worker.onerror = (e) => showError(`The decoding worker failed: ${e.message || 'unknown error'}`);
}

function restartWorker() {
  worker.terminate();
  for (const p of pending.values()) p.reject(new Error('the decoder was restarted'));
  pending.clear();
  state.folder = null;
  state.db = null;
  startWorker();
}
startWorker();

function call(op, args = {}) {
  const id = ++seq;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, ...args });
  });
}

// ---------------------------------------------------------------------------------------
// State

const state = {
  folder: null, // { label, files, load }
  files: [], // the Files (or Blobs) of the open folder, to keep them
  selected: null, // file name shown
  db: null, // open db info from the worker
  busy: 0,
};
window.viewer = { state, call }; // for tests and the curious

function setBusy(on, what) {
  state.busy += on ? 1 : -1;
  document.body.classList.toggle('busy', state.busy > 0);
  if (what) document.body.dataset.busy = what;
}

function showError(msg, code) {
  const b = $('banner');
  fill(b, h('strong', {}, 'Error'), code ? h('span', { class: 'mono code' }, code) : null, h('span', { class: 'msg' }, msg),
    h('button', { class: 'link', onclick: () => { b.hidden = true; } }, 'Dismiss'));
  b.className = 'banner error';
  b.hidden = false;
}
function showInfo(msg) {
  const b = $('banner');
  fill(b, h('span', { class: 'msg' }, msg), h('button', { class: 'link', onclick: () => { b.hidden = true; } }, 'Dismiss'));
  b.className = 'banner info';
  b.hidden = false;
}
function clearBanner() { $('banner').hidden = true; }

async function guarded(what, f) {
  setBusy(true, what);
  try {
    return await f();
  } catch (e) {
    showError(e.message, e.code);
    return undefined;
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------------------------------
// Opening

const isDbName = (n) => !n.endsWith('.snap') && !n.endsWith('.broken') && !n.endsWith('.tmp') && !n.startsWith('tmp');

async function openFiles(label, files, { single = false } = {}) {
  clearBanner();
  files = files.filter((f) => f && f.name && !f.name.startsWith('.'));
  if (!files.length) return showError('Nothing to open: the folder has no files.');
  const names = new Set();
  files = files.filter((f) => (names.has(f.name) ? false : names.add(f.name)));
  const res = await guarded('Reading folder', () => call('openFolder', { label, files }));
  if (!res) return;
  state.folder = res;
  state.files = files;
  state.db = null;
  renderFolder();
  // A single db file: show it at once; otherwise the snapshot etcd would load, else the first file.
  const dbs = res.files.filter((f) => isDbName(f.name));
  const pick = single && files.length === 1 ? files[0].name : (res.load || (dbs[0] && dbs[0].name) || res.files[0]?.name);
  if (pick) await select(pick);
}

function labelFor(name) {
  return (name || 'files').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 80) || 'files';
}

async function pickFolder() {
  if (window.showDirectoryPicker) {
    let dir;
    try { dir = await window.showDirectoryPicker({ id: 'etcd-snap', mode: 'read' }); } catch (e) {
      if (e.name === 'AbortError') return;
      return $('folder-input').click();
    }
    // A data dir or member dir was picked: descend to its snap folder.
    let label = dir.name;
    for (const sub of ['member', 'snap']) {
      const names = [];
      for await (const [name] of dir.entries()) names.push(name);
      if (!names.some(looksEtcd) && names.includes(sub)) {
        try { dir = await dir.getDirectoryHandle(sub); label += `/${sub}`; } catch { break; }
      }
    }
    const files = [];
    for await (const [, handle] of dir.entries()) if (handle.kind === 'file') files.push(await handle.getFile());
    return openFiles(label, files);
  }
  $('folder-input').click();
}

const looksEtcd = (n) => n.endsWith('.snap') || n.endsWith('.snap.db') || n === 'db' || n.endsWith('.broken');

/** From a recursive folder pick (`webkitRelativePath`s), the files of the one folder to show:
 *  the chosen folder itself, or its `snap` / `member/snap` folder if it is a data dir. */
function pickSnapFolder(all) {
  const byDir = new Map();
  for (const f of all) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    const dir = parts.slice(0, -1).join('/');
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir).push(f);
  }
  const root = (all[0]?.webkitRelativePath || '').split('/')[0] || 'folder';
  const top = byDir.get(root) || [];
  if (top.some((f) => looksEtcd(f.name))) return [root, top];
  for (const d of [`${root}/snap`, `${root}/member/snap`]) if (byDir.has(d)) return [d, byDir.get(d)];
  return [root, top.length ? top : all];
}

$('open-folder').addEventListener('click', pickFolder);
$('open-files').addEventListener('click', () => $('files-input').click());
$('folder-input').addEventListener('change', (e) => {
  const [dirName, files] = pickSnapFolder([...e.target.files]);
  e.target.value = '';
  openFiles(dirName, files);
});
$('files-input').addEventListener('change', (e) => {
  const files = [...e.target.files];
  e.target.value = '';
  openFiles(files.length === 1 ? files[0].name : 'files', files, { single: true });
});
$('open-sample').addEventListener('click', openSample);

async function openSample() {
  await guarded('Loading the sample', async () => {
    const idx = await (await fetch('sample/index.json')).json();
    const files = await Promise.all(idx.files.map(async (f) => {
      const r = await fetch(`sample/${idx.folder}/${encodeURIComponent(f.name)}`);
      if (!r.ok) throw new Error(`sample/${f.name}: HTTP ${r.status}`);
      return new File([await r.blob()], f.name);
    }));
    await openFiles(`sample-${idx.folder}`, files);
  });
}

// Drag and drop: folders (through entries) and files.
let dragDepth = 0;
window.addEventListener('dragenter', (e) => { e.preventDefault(); dragDepth++; $('drop-overlay').hidden = false; });
window.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; $('drop-overlay').hidden = true; } });
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', async (e) => {
  e.preventDefault();
  dragDepth = 0;
  $('drop-overlay').hidden = true;
  const items = [...(e.dataTransfer.items || [])].filter((i) => i.kind === 'file');
  const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  const dir = entries.find((en) => en && en.isDirectory);
  if (dir) {
    let target = dir, label = dir.name;
    for (const sub of ['member', 'snap']) {
      const kids = await readDirEntries(target);
      if (kids.some((k) => k.isFile && looksEtcd(k.name))) break;
      const next = kids.find((k) => k.isDirectory && k.name === sub);
      if (!next) break;
      target = next; label += `/${sub}`;
    }
    const files = await readDirEntry(target);
    return openFiles(label, files);
  }
  const files = [...e.dataTransfer.files];
  if (files.length) openFiles(files.length === 1 ? files[0].name : 'dropped files', files, { single: true });
});

async function readDirEntries(dir) {
  const reader = dir.createReader();
  const entries = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    entries.push(...batch);
  }
  return entries;
}

async function readDirEntry(dir) {
  const entries = await readDirEntries(dir);
  return Promise.all(entries.filter((en) => en.isFile).map((en) => new Promise((ok, fail) => en.file(ok, fail))));
}

// ---------------------------------------------------------------------------------------
// Folder panel

function verdictBadge(f) {
  if (f.kind === 'snap' || f.kind === 'broken') {
    if (f.verdict === 'ok') return badge('ok', 'CRC ok', 'etcd reads this snapshot cleanly');
    if (f.verdict) return badge('bad', f.code === 'ERR_CRC_MISMATCH' ? 'CRC mismatch' : 'broken', f.verdict);
  }
  if (f.kind === 'db') return badge('info', '.snap.db');
  if (f.kind === 'live-db') return badge('info', 'member db');
  if (f.kind === 'tmp' || f.kind === 'db.tmp') return badge('warn', 'temp file');
  if (f.kind === 'broken') return badge('warn', 'renamed broken');
  return isDbName(f.name) ? badge('info', 'db file') : badge('muted', f.kind);
}

function renderFolder() {
  const f = state.folder;
  $('folder-label').textContent = f.label;
  const snaps = f.files.filter((x) => x.kind === 'snap');
  const bad = snaps.filter((x) => x.verdict !== 'ok');
  fill($('folder-summary'),
    `${f.files.length} file${f.files.length === 1 ? '' : 's'}, ${snaps.length} snapshot${snaps.length === 1 ? '' : 's'}`,
    bad.length ? [' · ', badge('bad', `${bad.length} broken`)] : null,
    f.load ? h('div', { class: 'load-pick' }, 'etcd would load ', h('span', { class: 'mono' }, f.load)) : null,
  );
  const tbody = $('files-table').tBodies[0];
  fill(tbody, f.files.map((x) => h('tr', {
    class: ['file', x.name === state.selected && 'selected', x.verdict && x.verdict !== 'ok' && 'bad'],
    dataset: { name: x.name },
    onclick: () => select(x.name),
    title: x.verdict && x.verdict !== 'ok' ? x.verdict : x.name,
  },
  h('td', { class: 'mono name' }, x.name, x.name === f.load ? h('span', { class: 'star', title: 'the snapshot etcd would load' }, ' ★') : null),
  h('td', { class: 'num' }, bytes(x.size)),
  h('td', { class: 'verdict' }, verdictBadge(x)))));
  $('files-table').hidden = false;
  $('keep-row').hidden = false;
}

async function select(name) {
  state.selected = name;
  for (const tr of $('files-table').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.name === name);
  const f = state.folder.files.find((x) => x.name === name);
  $('welcome').hidden = true;
  const view = $('view');
  view.hidden = false;
  if (state.db) { call('closeDb', { dbId: state.db.id }); state.db = null; }
  if (f.kind === 'snap' || name.endsWith('.snap')) return renderSnap(view, f);
  if (f.kind === 'broken' || f.kind === 'tmp' || f.kind === 'db.tmp' || name.endsWith('.broken')) {
    return fill(view, h('h2', {}, h('span', { class: 'mono' }, name)), h('p', { class: 'muted' }, 'A leftover file etcd ignores. ', f.verdict || ''));
  }
  fill(view, h('div', { class: 'loading' }, `Opening ${name}…`));
  let info;
  setBusy(true, 'Opening db');
  try {
    info = await call('openDb', { name });
  } catch (e) {
    return fill(view, h('div', { class: 'view-head' }, h('h2', {}, h('span', { class: 'mono' }, name)), badge('bad', 'unreadable')),
      h('div', { class: 'error-box', dataset: { testid: 'db-error' } },
        h('div', {}, h('strong', {}, 'This file cannot be read as an etcd db.')),
        h('div', {}, h('span', { class: 'mono code' }, e.code || 'ERROR'), ' ', h('span', { class: 'pre' }, e.message)),
        h('div', { class: 'muted' }, 'Nothing was changed.')));
  } finally {
    setBusy(false);
  }
  state.db = info;
  renderDb(view, info);
}

// ---------------------------------------------------------------------------------------
// Snapshot view

function card(label, value, testid, title) {
  return h('div', { class: 'card', title }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value mono', dataset: testid ? { testid } : undefined }, value));
}

function memberId(dec) {
  return h('span', { class: 'mono', title: `decimal ${dec}` }, hex(dec), h('span', { class: 'muted small' }, ` (${dec})`));
}

function membersTable(members) {
  if (!members.length) return h('p', { class: 'muted' }, 'No members recorded.');
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', {}, 'Name'), h('th', {}, 'Peer URLs'), h('th', {}, 'Client URLs'), h('th', {}, 'Learner'))),
    h('tbody', {}, members.map((m) => h('tr', {},
      h('td', { class: 'mono' }, m.id), h('td', {}, m.name || h('span', { class: 'muted' }, '(unstarted)')),
      h('td', { class: 'mono' }, m.peerURLs.join(', ')), h('td', { class: 'mono' }, m.clientURLs.join(', ')),
      h('td', {}, m.isLearner ? 'yes' : 'no')))));
}

function renderSnap(view, f) {
  const head = h('div', { class: 'view-head' },
    h('h2', {}, h('span', { class: 'mono' }, f.name)),
    f.verdict === 'ok' ? badge('ok', 'CRC ok') : badge('bad', f.code || 'broken'),
    f.name === state.folder.load ? badge('info', 'etcd would load this') : null);
  if (f.verdict !== 'ok') {
    return fill(view, head,
      h('div', { class: 'error-box', dataset: { testid: 'snap-error' } },
        h('div', {}, h('strong', {}, 'etcd cannot read this snapshot: '), h('span', { class: 'mono' }, f.verdict)),
        h('div', { class: 'muted' }, `etcd's Load would skip it and rename it to ${f.name}.broken; viewing renames nothing.`)),
      f.term !== null ? h('p', {}, 'Its name says term ', h('span', { class: 'mono' }, f.term), ', index ', h('span', { class: 'mono' }, f.index), '.') : null);
  }
  const sn = f.snapshot;
  const cs = sn.confState;
  const dbName = `${hex(sn.index, 16)}.snap.db`;
  const hasDb = state.folder.files.some((x) => x.name === dbName);
  fill(view, head,
    h('div', { class: 'cards' },
      card('Term', sn.term, 'snap-term'),
      card('Index', sn.index, 'snap-index'),
      card('Voters', String(cs.voters.length), 'snap-voters-count'),
      card('Data', sn.dataNil ? 'nil' : bytes(sn.dataLen), 'snap-data', `${int(sn.dataLen)} bytes of v2 store JSON`)),
    h('h3', {}, 'Conf state'),
    h('table', { class: 'kv' }, h('tbody', {},
      ['voters', 'learners', 'votersOutgoing', 'learnersNext'].map((k) => h('tr', {},
        h('th', {}, k), h('td', { dataset: { testid: `conf-${k}` } }, cs[k].length ? cs[k].map((v, i) => [i ? ', ' : '', memberId(v)]) : h('span', { class: 'muted' }, 'none')))),
      h('tr', {}, h('th', {}, 'autoLeave'), h('td', {}, String(cs.autoLeave))))),
    h('h3', {}, 'Members ', h('span', { class: 'muted small' }, '(from the v2 store in the snapshot data)')),
    f.v2 ? [
      membersTable(f.v2.members),
      h('table', { class: 'kv' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Cluster version'), h('td', { class: 'mono' }, f.v2.clusterVersion || '—')),
        h('tr', {}, h('th', {}, 'Removed members'), h('td', { class: 'mono' }, f.v2.removedMembers.join(', ') || '—')),
        h('tr', {}, h('th', {}, 'v2 store index'), h('td', { class: 'mono' }, f.v2.currentIndex)),
        h('tr', {}, h('th', {}, 'v2 keys'), h('td', { class: 'mono' }, int(f.v2.v2Keys))))),
    ] : f.v2Error ? h('div', { class: 'error-box' }, f.v2Error.message) : h('p', { class: 'muted' }, 'No data.'),
    h('h3', {}, 'v3 keyspace'),
    hasDb
      ? h('p', {}, 'The db sent with this snapshot: ', h('button', { class: 'link mono', onclick: () => select(dbName) }, dbName))
      : h('p', { class: 'muted' }, `In etcd 3.4 the v3 keyspace lives in the member db (or in ${dbName} on a follower that received this snapshot).`),
  );
}

// ---------------------------------------------------------------------------------------
// Db view

function renderDb(view, info) {
  const tabs = ['Overview', 'Keys', 'Space by prefix', 'Buckets'];
  const body = h('div', { class: 'tab-body' });
  const bar = h('div', { class: 'tabs', role: 'tablist' }, tabs.map((t) => h('button', {
    role: 'tab', class: 'tab', dataset: { tab: t },
    onclick: () => show(t),
  }, t)));
  function show(t) {
    for (const b of bar.children) b.classList.toggle('active', b.dataset.tab === t);
    if (t === 'Overview') renderOverview(body, info);
    if (t === 'Keys') renderKeys(body, info);
    if (t === 'Space by prefix') renderSpace(body, info, (p) => { show('Keys'); keysState.setPrefix(p); });
    if (t === 'Buckets') renderBuckets(body, info);
  }
  const trailer = info.layout.trailer;
  fill(view,
    h('div', { class: 'view-head' }, h('h2', {}, h('span', { class: 'mono' }, info.name)),
      info.statusError ? badge('bad', 'corrupt', info.statusError.message) : badge('ok', 'consistent', 'bbolt integrity check passed'),
      trailer === 'verified' ? badge('ok', 'sha256 ok', 'etcdctl snapshot save trailer matches') : null,
      h('span', { class: 'muted' }, bytes(info.size))),
    bar, body);
  show('Overview');
}

function errorBox(err, testid) {
  return h('div', { class: 'error-box', dataset: { testid } }, h('span', { class: 'mono code' }, err.code || 'ERROR'), ' ', h('span', { class: 'pre' }, err.message));
}

function renderOverview(body, info) {
  const st = info.status;
  const L = info.layout;
  const c = info.cluster;
  fill(body,
    h('h3', {}, 'Status ', h('span', { class: 'muted small' }, '(etcdctl snapshot status)')),
    st ? h('div', { class: 'cards' },
      card('Hash', String(st.hash), 'status-hash', `hex ${st.hash.toString(16)}`),
      card('Revision', String(st.revision), 'status-revision'),
      card('Total keys', String(st.totalKey), 'status-totalKey', 'entries in all buckets'),
      card('Total size', String(st.totalSize), 'status-totalSize', siBytes(st.totalSize)),
    ) : errorBox(info.statusError, 'status-error'),
    st ? h('pre', { class: 'mono etcdctl' }, `etcdctl snapshot status -w table\n+----------+----------+------------+------------+\n|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n+----------+----------+------------+------------+\n| ${st.hash.toString(16).padStart(8)} | ${String(st.revision).padStart(8)} | ${String(st.totalKey).padStart(10)} | ${siBytes(st.totalSize).padStart(10)} |\n+----------+----------+------------+------------+`) : null,
    info.problems && info.problems.length ? h('details', { open: true }, h('summary', {}, `${info.problems.length} integrity problems`), h('pre', { class: 'mono' }, info.problems.join('\n'))) : null,
    h('h3', {}, 'Keyspace'),
    info.index ? h('div', { class: 'cards' },
      card('Current revision', String(info.index.currentRevision), 'index-current'),
      card('Compacted at', String(info.index.compactRevision), 'index-compact'),
      card('Keys', int(info.index.keys), 'index-keys', 'user keys with any stored revision'),
      card('Revisions', int(info.index.revisions), 'index-revisions')) : errorBox(info.indexError, 'index-error'),
    h('h3', {}, 'File'),
    h('table', { class: 'kv' }, h('tbody', {},
      h('tr', {}, h('th', {}, 'Size'), h('td', {}, `${int(L.size)} bytes (${bytes(L.size)})`)),
      h('tr', {}, h('th', {}, 'Page size'), h('td', {}, int(L.pageSize))),
      h('tr', {}, h('th', {}, 'High water mark'), h('td', {}, `${int(L.highWaterMark)} bytes`)),
      h('tr', {}, h('th', {}, 'Transaction id'), h('td', {}, int(L.txid))),
      h('tr', {}, h('th', {}, 'sha256 trailer'), h('td', {}, L.trailer === 'none' ? 'none (a bbolt file)' : `${L.trailer} (etcdctl snapshot save)`)))),
    c ? [
      h('h3', {}, 'Meta'),
      h('table', { class: 'kv' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Consistent index'), h('td', { class: 'mono', dataset: { testid: 'meta-ci' } }, String(c.meta.consistentIndex ?? '—'))),
        h('tr', {}, h('th', {}, 'Term'), h('td', { class: 'mono' }, String(c.meta.term ?? '— (etcd 3.4 does not store it)'))),
        h('tr', {}, h('th', {}, 'Compaction (scheduled / finished)'), h('td', { class: 'mono' }, `${c.meta.scheduledCompactRevision ?? '—'} / ${c.meta.finishedCompactRevision ?? '—'}`)),
        c.meta.confState ? h('tr', {}, h('th', {}, 'Conf state'), h('td', { class: 'mono' }, c.meta.confState)) : null,
        c.meta.storageVersion ? h('tr', {}, h('th', {}, 'Storage version'), h('td', { class: 'mono' }, c.meta.storageVersion)) : null,
        h('tr', {}, h('th', {}, 'Cluster version'), h('td', { class: 'mono' }, c.clusterVersion || '—')))),
      h('h3', {}, 'Members ', h('span', { class: 'muted small' }, '(members bucket)')),
      membersTable(c.members),
      c.removedMembers.length ? h('p', {}, 'Removed: ', h('span', { class: 'mono' }, c.removedMembers.join(', '))) : null,
      h('h3', {}, `Leases (${int(c.leases.length)})`),
      c.leases.length ? h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', { class: 'num' }, 'TTL'), h('th', { class: 'num' }, 'Remaining TTL'))),
        h('tbody', {}, c.leases.slice(0, 200).map((l) => h('tr', {}, h('td', { class: 'mono' }, BigInt(l.id).toString(16)), h('td', { class: 'num' }, String(l.ttl)), h('td', { class: 'num' }, String(l.remainingTtl))))))
        : h('p', { class: 'muted' }, 'No leases.'),
      h('h3', {}, 'Auth and alarms'),
      h('table', { class: 'kv' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Auth'), h('td', {}, c.auth.enabled ? 'enabled' : 'disabled', c.auth.users.length ? ` · users: ${c.auth.users.map((u) => u.name).join(', ')}` : '', c.auth.roles.length ? ` · roles: ${c.auth.roles.join(', ')}` : '')),
        h('tr', {}, h('th', {}, 'Alarms'), h('td', {}, c.alarms.length ? c.alarms.map((a) => badge('bad', `${a.alarm} on ${a.memberId}`)) : 'none')))),
    ] : errorBox(info.clusterError, 'cluster-error'),
  );
}

function renderBuckets(body, info) {
  if (!info.buckets) return fill(body, errorBox(info.bucketsError, 'buckets-error'));
  fill(body, h('table', { class: 'grid', dataset: { testid: 'buckets' } },
    h('thead', {}, h('tr', {}, ['Bucket', 'Entries', 'Key bytes', 'Value bytes', 'Leaf pages', 'Branch pages', 'Overflow pages', 'Depth'].map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
    h('tbody', {}, info.buckets.map((b) => h('tr', {},
      h('td', { class: 'mono' }, b.name), h('td', { class: 'num' }, int(b.keys)), h('td', { class: 'num' }, int(b.keyBytes)), h('td', { class: 'num' }, int(b.valueBytes)),
      h('td', { class: 'num' }, b.pages.inline ? 'inline' : int(b.pages.leaf)), h('td', { class: 'num' }, int(b.pages.branch)), h('td', { class: 'num' }, int(b.pages.overflow)), h('td', { class: 'num' }, String(b.pages.depth)))))));
}

async function renderSpace(body, info, onPick) {
  if (!info.index) return fill(body, errorBox(info.indexError, 'index-error'));
  let depth = 1;
  const holder = h('div', { class: 'chart-holder' });
  const sel = h('select', { onchange: (e) => { depth = Number(e.target.value); draw(); } },
    [1, 2, 3, 4].map((d) => h('option', { value: d }, `depth ${d}`)));
  fill(body, h('div', { class: 'toolbar' }, h('span', {}, 'Bytes of every stored revision (puts and tombstones) in the key bucket, by key prefix cut after the n-th "/". Click a bar to browse its keys.'), sel), holder);
  async function draw(auto = false) {
    fill(holder, h('div', { class: 'loading' }, 'Summing…'));
    let items = await guarded('Summing space', () => call('space', { dbId: info.id, depth }));
    // Drill down while one prefix holds nearly everything (etcd keys start with "/registry/").
    while (auto && items && items.length && depth < 4) {
      const total = items.reduce((a, x) => a + x.bytes, 0);
      if (items[0].bytes < 0.9 * total) break;
      const deeper = await guarded('Summing space', () => call('space', { dbId: info.id, depth: depth + 1 }));
      if (!deeper || deeper.length <= items.length) break;
      depth++;
      items = deeper;
    }
    sel.value = String(depth);
    if (items) fill(holder, items.length ? spaceChart(items, { onPick }) : h('p', { class: 'muted' }, 'No keys.'));
  }
  draw(true);
}

// Key browser ------------------------------------------------------------------------

const keysState = { setPrefix: () => {} };

function renderKeys(body, info) {
  if (!info.index) return fill(body, errorBox(info.indexError, 'index-error'));
  let prefix = '';
  let cursors = [null]; // `after` of each page seen
  let page = 0;
  const input = h('input', { type: 'search', class: 'mono', placeholder: 'key prefix, e.g. /registry/pods/', spellcheck: 'false', 'aria-label': 'Key prefix', dataset: { testid: 'prefix' } });
  const status = h('span', { class: 'muted', dataset: { testid: 'keys-status' } });
  const prev = h('button', { dataset: { testid: 'prev' }, onclick: () => { if (page > 0) { page--; load(); } } }, '‹ Prev');
  const next = h('button', { dataset: { testid: 'next' }, onclick: () => { page++; load(); } }, 'Next ›');
  const tbody = h('tbody');
  const detail = h('div', { class: 'key-detail' }, h('p', { class: 'muted' }, 'Select a key to see its revisions.'));
  let total = null;
  let timer;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => setPrefix(input.value, false), 250); });
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(timer); setPrefix(input.value, false); } });
  function setPrefix(p, updateInput = true) {
    if (updateInput) input.value = p;
    prefix = p; cursors = [null]; page = 0; total = null;
    load();
  }
  keysState.setPrefix = setPrefix;
  let loading = 0;
  async function load() {
    const my = ++loading;
    const res = await guarded('Listing keys', () => call('keys', { dbId: info.id, prefix, after: cursors[page], limit: PAGE, count: total === null }));
    if (!res || my !== loading) return;
    if (res.total !== null) total = res.total;
    cursors[page + 1] = res.next;
    const from = page * PAGE;
    status.textContent = res.keys.length ? `${int(from + 1)}–${int(from + res.keys.length)} of ${int(total)} keys` : `0 of ${int(total)} keys`;
    prev.disabled = page === 0;
    next.disabled = !res.next;
    fill(tbody, res.keys.map((k) => {
      const kt = keyText(k.key);
      return h('tr', { class: ['key-row', !k.live && 'deleted'], onclick: (e) => { for (const r of tbody.rows) r.classList.remove('selected'); e.currentTarget.classList.add('selected'); showKey(k); } },
        h('td', { class: 'mono key', title: clip(kt.text, 4096) }, clip(kt.text, 1024), kt.binary ? badge('muted', 'bin') : null),
        h('td', { class: 'num' }, String(k.revisions)),
        h('td', { class: 'num mono' }, String(k.lastRevision)),
        h('td', { class: 'num' }, bytes(k.bytes)),
        h('td', {}, k.live ? badge('ok', 'live') : badge('warn', 'deleted')));
    }));
  }
  async function showKey(k) {
    const hist = await guarded('Reading history', () => call('history', { dbId: info.id, key: k.key }));
    if (!hist) return;
    renderHistory(detail, k, hist, info);
  }
  fill(body,
    h('div', { class: 'toolbar' }, input, status, h('span', { class: 'spacer' }), prev, next),
    h('div', { class: 'split' },
      h('div', { class: 'key-list' }, h('table', { class: 'grid keys', dataset: { testid: 'keys' } },
        h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', { class: 'num' }, 'Revs'), h('th', { class: 'num' }, 'Last rev'), h('th', { class: 'num' }, 'Stored'), h('th', {}, 'State'))),
        tbody)),
      detail));
  load();
}

const clip = (t, n) => (t.length > n ? `${t.slice(0, n)}… (${int(t.length - n)} more characters)` : t);

function renderHistory(detail, k, hist, info) {
  const kt = keyText(k.key);
  let chosen = hist.length - 1;
  const list = h('ol', { class: 'history', dataset: { testid: 'history' } });
  const valueBox = h('div', { class: 'value-box' });
  function draw() {
    fill(list, hist.map((r, i) => h('li', { class: [i === chosen && 'selected', r.tombstone && 'tombstone'], onclick: () => { chosen = i; draw(); } },
      h('span', { class: 'mono' }, `${r.main}`, r.sub ? `.${r.sub}` : ''),
      r.tombstone ? badge('warn', 'tombstone') : h('span', { class: 'muted' }, ` v${r.version} · ${bytes(r.valueSize)}`))));
    renderValue(valueBox, hist[chosen], k, info);
  }
  fill(detail,
    h('h3', { class: 'mono key-title', dataset: { testid: 'key-title' } }, clip(kt.text, 65536)),
    h('div', { class: 'muted small' }, `${int(k.revisions)} stored revision${k.revisions === 1 ? '' : 's'}`,
      hist.length < k.revisions ? ` · showing the newest ${int(hist.length)}` : '',
      hist.length && !hist[0].tombstone && hist[0].version > 1 ? ` · versions before ${hist[0].version} were compacted away` : ''),
    h('div', { class: 'hist-split' }, list, valueBox));
  draw();
}

function renderValue(box, r, k, info) {
  if (r.tombstone) {
    return fill(box, h('div', { class: 'tomb' }, `Deleted at revision ${r.main}.`), h('table', { class: 'kv' }, h('tbody', {}, h('tr', {}, h('th', {}, 'Stored bytes'), h('td', {}, int(r.size))))));
  }
  const partial = r.valueSize > r.value.length;
  const text = partial ? null : valueText(r.value);
  const json = text !== null && text.length <= 8 << 20 ? prettyJson(text) : null;
  const modes = [['text', 'Text', text !== null], ['hex', 'Hex', true], ['json', 'JSON', json !== null]];
  let mode = json !== null ? 'json' : text !== null ? 'text' : 'hex';
  const out = h('pre', { class: 'mono value', dataset: { testid: 'value' } });
  const buttons = h('div', { class: 'seg' });
  function draw() {
    fill(buttons, modes.map(([m, label, ok]) => h('button', { class: m === mode ? 'active' : '', disabled: !ok, dataset: { mode: m }, onclick: () => { mode = m; draw(); } }, label)));
    const cap = 1 << 20;
    if (mode === 'hex') out.textContent = hexDump(r.value) + (r.value.length > 64 << 10 ? `\n… ${int(r.value.length - (64 << 10))} more bytes` : '');
    else if (mode === 'json') out.textContent = json;
    else out.textContent = text.length > cap ? text.slice(0, cap) + `\n… (${int(text.length - cap)} more characters)` : text;
  }
  fill(box,
    h('table', { class: 'kv compact' }, h('tbody', {},
      h('tr', {}, h('th', {}, 'mod / create revision'), h('td', { class: 'mono' }, `${r.modRevision} / ${r.createRevision}`)),
      h('tr', {}, h('th', {}, 'version'), h('td', { class: 'mono' }, String(r.version))),
      h('tr', {}, h('th', {}, 'lease'), h('td', { class: 'mono' }, r.lease ? BigInt(r.lease).toString(16) : 'none')),
      h('tr', {}, h('th', {}, 'value'), h('td', {}, `${int(r.valueSize)} bytes`)))),
    partial ? h('div', { class: 'muted small' }, `Large value: only its first ${bytes(r.value.length)} were read (shown as hex). `,
      h('button', { class: 'link', onclick: async () => {
        const whole = await guarded('Reading value', () => call('value', { dbId: info.id, key: k.key, main: r.main, sub: r.sub }));
        if (whole) renderValue(box, { ...r, value: whole }, k, info);
      } }, `Read all ${bytes(r.valueSize)}`)) : null,
    buttons, out);
  draw();
}

// ---------------------------------------------------------------------------------------
// Kept folders (OPFS)

$('keep-btn').addEventListener('click', async () => {
  if (!state.folder) return;
  const label = labelFor(state.folder.label);
  const res = await guarded('Keeping', () => call('keep', { label }));
  if (res) { showInfo(`Kept ${res.files} files (${bytes(res.bytes)}) as “${res.label}” in this browser.`); refreshKept(); }
});

async function refreshKept() {
  const kept = await call('listKept').catch(() => []);
  fill($('kept-list'), kept.length ? kept.map((k) => h('li', { dataset: { label: k.label } },
    h('button', { class: 'link mono', title: 'Open', onclick: () => openKept(k.label) }, k.label),
    h('span', { class: 'muted small' }, ` ${k.files} files · ${bytes(k.bytes)} `),
    h('button', { class: 'link danger', title: 'Remove from this browser', onclick: () => removeKept(k.label) }, 'Remove')))
    : h('li', { class: 'muted' }, 'Nothing kept yet.'));
}

async function openKept(label) {
  clearBanner();
  const res = await guarded('Opening kept folder', () => call('openKept', { label }));
  if (!res) return;
  state.folder = res;
  state.files = [];
  renderFolder();
  $('keep-row').hidden = true;
  const pick = res.load || res.files.find((f) => isDbName(f.name))?.name || res.files[0]?.name;
  if (pick) await select(pick);
}

async function removeKept(label) {
  const ok = await guarded('Removing', () => call('removeKept', { label }));
  if (ok) { showInfo(`Removed “${label}” from this browser.`); refreshKept(); }
}

// ---------------------------------------------------------------------------------------

call('version').then((v) => { $('version').textContent = `etcd-snap ${v}`; document.body.dataset.ready = 'true'; })
  .catch((e) => showError(`The etcd-snap package failed to load: ${e.message}`, e.code));
refreshKept();
