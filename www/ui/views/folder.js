// The folder panel: the files of the open folder with etcd's verdict on each, and which
// snapshot etcd's Load would pick (both from the library, through the worker).
import { h, fill, badge } from '../dom.js';
import { bytes } from '../format.js';
import { isDbKind } from '../kinds.js';

const $ = (id) => document.getElementById(id);

function verdictBadge(f) {
  if (f.kind === 'snap' || f.kind === 'broken') {
    if (f.verdict === 'ok') return badge('ok', 'CRC ok', 'etcd reads this snapshot cleanly');
    if (f.verdict) return badge('bad', f.code === 'ERR_CRC_MISMATCH' ? 'CRC mismatch' : 'broken', f.verdict);
  }
  if (f.kind === 'db') return badge('info', '.snap.db');
  if (f.kind === 'live-db') return badge('info', 'member db');
  if (f.kind === 'tmp' || f.kind === 'db.tmp') return badge('warn', 'temp file');
  if (f.kind === 'broken') return badge('warn', 'renamed broken');
  return isDbKind(f.kind) ? badge('info', 'db file') : badge('muted', f.kind);
}

/** Draws `folder` ({ label, files, load }); a click on a row calls `onSelect(name)`. */
export function renderFolder(folder, selected, onSelect) {
  const f = folder;
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
    class: ['file', x.name === selected && 'selected', x.verdict && x.verdict !== 'ok' && 'bad'],
    dataset: { name: x.name },
    onclick: () => onSelect(x.name),
    title: x.verdict && x.verdict !== 'ok' ? x.verdict : x.name,
  },
  h('td', { class: 'mono name' }, x.name, x.name === f.load ? h('span', { class: 'star', title: 'the snapshot etcd would load' }, ' ★') : null),
  h('td', { class: 'num' }, bytes(x.size)),
  h('td', { class: 'verdict' }, verdictBadge(x)))));
  $('files-table').hidden = false;
  $('keep-row').hidden = false;
}

/** Marks the row of `name` as the one shown. */
export function markSelected(name) {
  for (const tr of $('files-table').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.name === name);
}
