// Opening: hands files to the worker, shows the folder it describes, and selects the file
// to show first (the one file opened alone, else the snapshot etcd's Load would pick, else
// the first db, else the first file).
import { h, fill } from './dom.js';
import { call } from './rpc.js';
import { state, setBusy } from './state.js';
import { showError, clearBanner, guarded } from './banner.js';
import { isDbKind, isLeftoverKind } from './kinds.js';
import { renderFolder, renderMembers, renderComparison, markSelected } from './views/folder.js';
import { renderSnap, renderLeftover } from './views/snap.js';
import { renderDb, renderDbError } from './views/db.js';
import { renderMember, clearMember } from './views/member.js';
import { onRoute } from './route.js';

const $ = (id) => document.getElementById(id);

/** Opens `files` (Files or Blobs with names) as folder `label`; `single` when they were
 *  picked one by one (a lone file is then shown at once). */
export async function openFiles(label, files, { single = false, keepMembers = false, wal = [] } = {}) {
  clearBanner();
  if (!keepMembers) { state.members = []; renderMembers([], 0, () => {}); }
  files = files.filter((f) => f && f.name && !f.name.startsWith('.'));
  wal = wal.filter((f) => f && f.name && !f.name.startsWith('.'));
  if (!files.length && !wal.length) return showError('Nothing to open: the folder has no files.');
  const names = new Set();
  files = files.filter((f) => (names.has(f.name) ? false : names.add(f.name)));
  const res = await guarded('Reading folder', () => call('openFolder', { label, files, wal }));
  if (!res) return;
  state.files = files;
  const pick = single && files.length === 1 ? files[0].name : undefined;
  await showFolder(res, { pick, single });
}

/** The doctor on every member found, and which one to recover from. */
async function compare(members) {
  const res = await guarded('Comparing members', () => call('compareMembers', {
    members: members.map((m) => ({ label: m.label, files: m.files, wal: m.wal || [] })),
  }));
  if (res) renderComparison(res);
}

/** Opens what the pickers found: one member as a folder, several as a member list (each
 *  shown on its own, the first one now). */
export async function openMembers(members) {
  members = members.filter((m) => m.files.length || m.wal?.length);
  if (!members.length) return showError('Nothing to open: the folder has no files.');
  if (members.length === 1) return openFiles(members[0].label, members[0].files, { wal: members[0].wal || [] });
  state.members = members;
  const show = async (i) => {
    renderMembers(members, i, show, compare);
    await openFiles(members[i].label, members[i].files, { keepMembers: true, wal: members[i].wal || [] });
  };
  await show(0);
}

/** Shows folder `res` (the worker's description) and selects `pick` or the default file.
 *  `keepable: false` for a folder already kept (no Keep button). */
export async function showFolder(res, { pick, keepable = true, single = false } = {}) {
  state.folder = res;
  state.db = null;
  if (res.member) renderMember(res.member); else clearMember();
  renderFolder(res, state.selected, select, { single });
  $('keep-row').hidden = !keepable;
  pick ??= res.load || res.files.find((f) => isDbKind(f.kind))?.name || res.files[0]?.name;
  if (res.member) $('welcome').hidden = true;
  if (pick) await select(pick);
}

/** Shows file `name` of the open folder. */
export async function select(name) {
  state.selected = name;
  markSelected(name);
  const f = state.folder.files.find((x) => x.name === name);
  $('welcome').hidden = true;
  const view = $('view');
  view.hidden = false;
  if (state.db) { call('closeDb', { dbId: state.db.id }); state.db = null; }
  onRoute(null); // the URL's tab / key belong to a db view; the open db's view takes it again
  if (f.kind === 'snap') return renderSnap(view, f, state.folder, select);
  if (isLeftoverKind(f.kind)) return renderLeftover(view, f);
  return openDb(view, name);
}

/** Opens db `name` into `view`; `verifyTrailer: false` after the user chose "open anyway". */
async function openDb(view, name, verifyTrailer = true) {
  fill(view, h('div', { class: 'loading', role: 'status' }, `Opening ${name}…`));
  let info;
  setBusy(true, `Opening ${name}`);
  try {
    info = await call('openDb', { name, verifyTrailer });
  } catch (e) {
    return renderDbError(view, name, e, verifyTrailer ? () => openDb(view, name, false) : null);
  } finally {
    setBusy(false);
  }
  state.db = info;
  renderDb(view, info);
}

/** The sample data dir next to the page (www/sample/data: member/snap and member/wal of a
 *  real etcd 3.4.23), opened as a member: the doctor's verdict and the WAL view. */
export async function openSampleDataDir() {
  await guarded('Loading the sample data dir', async () => {
    const idx = await (await fetch('sample/data.json')).json();
    const get = (dir) => async (name) => {
      const r = await fetch(`sample/${dir}/${encodeURIComponent(name)}`);
      if (!r.ok) throw new Error(`sample/${dir}/${name}: HTTP ${r.status}`);
      return new File([await r.blob()], name);
    };
    const files = await Promise.all(idx.snapFiles.map(get(idx.snap)));
    const wal = await Promise.all(idx.walFiles.map(get(idx.wal)));
    await openFiles('sample-data/member/snap', files, { wal });
  });
}

/** The sample folder next to the page (www/sample/, written by a real etcd). */
export async function openSample() {
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
