// The folder panel: the files of the open folder with etcd's verdict on each, and which
// snapshot etcd's Load would pick (both from the library, through the worker). A folder
// holding several data dirs lists its members above, each opened on its own.
import { h, fill, badge, activatable, plural } from '../dom.js';
import { bytes } from '../format.js';
import { isDbKind } from '../kinds.js';

const $ = (id) => document.getElementById(id);

const DB_LABEL = { db: '.snap.db', 'live-db': 'member db', other: 'db file' };

function verdictBadge(f) {
  if (f.kind === 'snap' || f.kind === 'broken') {
    if (f.verdict === 'ok') return badge('ok', 'CRC ok', 'etcd reads this snapshot cleanly');
    if (f.verdict) return badge('bad', f.code === 'ERR_CRC_MISMATCH' ? 'CRC mismatch' : 'broken', f.verdict);
  }
  if (isDbKind(f.kind)) {
    // The listing's verdict (the library's, as `etcd-snap ls`): meta pages and length only.
    if (f.verdict && f.verdict !== 'ok') return badge('bad', `${DB_LABEL[f.kind]}: unreadable`, f.verdict);
    return badge('info', DB_LABEL[f.kind], 'meta pages read; open it for the integrity check');
  }
  if (f.kind === 'tmp' || f.kind === 'db.tmp') return badge('warn', 'temp file');
  if (f.kind === 'broken') return badge('warn', 'renamed broken');
  return badge('muted', f.kind);
}

/** The member list of a folder holding several data dirs: `members` [{ label }], the one
 *  shown is `current`; a click calls `onPick(i)`. */
export function renderMembers(members, current, onPick, onCompare) {
  const box = $('members');
  box.hidden = members.length < 2;
  if (members.length < 2) return;
  fill(box,
    h('h2', {}, `${members.length} members`, h('span', { class: 'muted small' }, ' (data dirs found in the folder)')),
    h('ul', { class: 'members', dataset: { testid: 'members' } }, members.map((m, i) => h('li', {},
      h('button', {
        class: ['link', 'mono', i === current && 'current'], 'aria-current': i === current ? 'true' : null,
        onclick: () => onPick(i),
      }, m.label),
      h('span', { class: 'muted small' }, ` ${plural(m.files.length, 'file')}`)))),
    members.some((m) => m.wal?.length)
      ? h('button', { dataset: { testid: 'compare-members' }, onclick: () => onCompare?.(members) }, 'Which member to recover from?')
      : h('p', { class: 'muted small' }, 'No member has a WAL here: the doctor cannot compare them.'),
    h('div', { id: 'members-compare', role: 'status', 'aria-live': 'polite' }));
}

/** Draws the doctor's comparison of the members (`compareMembers` in the worker). */
export function renderComparison(res) {
  const box = document.getElementById('members-compare');
  if (!box) return;
  const rec = res.recommendation;
  fill(box,
    h('p', { dataset: { testid: 'recommendation' } },
      rec?.member ? ['Recover from ', h('strong', { class: 'mono' }, rec.member), '.'] : 'No member to recover from: none has a WAL that reads.'),
    rec?.reasons?.length ? h('ul', { class: 'small' }, rec.reasons.map((r) => h('li', {}, r))) : null,
    rec?.excluded?.length ? h('ul', { class: 'small muted' }, rec.excluded.map(([m, why]) => h('li', {}, h('span', { class: 'mono' }, m), `: ${why}`))) : null,
    h('ul', { class: 'small', dataset: { testid: 'member-summaries' } }, res.members.map((m) => h('li', {}, h('span', { class: 'mono' }, m.label), ': ', m.summary))));
}

/** Draws `folder` ({ label, files, load }); a click (or Enter) on a row calls `onSelect(name)`.
 *  `single`: the user opened files, not a folder. */
export function renderFolder(folder, selected, onSelect, { single = false } = {}) {
  const f = folder;
  $('folder-kind').textContent = single && f.files.length === 1 ? 'File' : single ? 'Files' : 'Folder';
  $('folder-label').textContent = single && f.files.length === 1 ? '' : f.label;
  const snaps = f.files.filter((x) => x.kind === 'snap');
  const bad = f.files.filter((x) => x.verdict && x.verdict !== 'ok');
  const hasMemberDb = f.files.some((x) => x.kind === 'live-db');
  fill($('folder-summary'),
    `${plural(f.files.length, 'file')}, ${plural(snaps.length, 'snapshot')}`,
    bad.length ? [' · ', badge('bad', `${bad.length} unreadable`)] : null,
    f.load
      ? h('div', { class: 'load-pick', dataset: { testid: 'load-pick' } },
        f.loadRule === 'LoadNewestAvailable' ? 'etcd starts from ' : 'Load() would pick ',
        h('span', { class: 'mono' }, f.load),
        f.loadRule === 'LoadNewestAvailable' ? null : h('span', { class: 'muted small' }, ' (no WAL here: etcd itself starts from the newest .snap its WAL records)'))
      : null,
    !single && snaps.length && !hasMemberDb
      ? h('div', { class: 'note warn', dataset: { testid: 'no-db' } }, 'No member ', h('span', { class: 'mono' }, 'db'), ' in this folder: the keyspace is not here.')
      : null,
    // snapshotter::v3_only_folder's rule: a db and no v2 .snap is what etcd main writes.
    !single && !snaps.length && f.files.some((x) => isDbKind(x.kind))
      ? h('div', { class: 'note', dataset: { testid: 'v3-only' } }, 'No v2 ', h('span', { class: 'mono' }, '.snap'), ' file: the folder etcd main writes (only ', h('span', { class: 'mono' }, '.snap.db'), ' files and ', h('span', { class: 'mono' }, 'db'), '), not a broken one. etcd 3.7+ does not read ', h('span', { class: 'mono' }, '.snap'), ' files on startup; 3.4 to 3.7 purge old ones past --max-snapshots, main never does.')
      : null,
  );
  const tbody = $('files-table').tBodies[0];
  fill(tbody, f.files.map((x) => activatable(h('tr', {
    class: ['file', x.name === selected && 'selected', x.verdict && x.verdict !== 'ok' && 'bad'],
    dataset: { name: x.name },
    title: x.verdict && x.verdict !== 'ok' ? x.verdict : x.name,
    'aria-current': x.name === selected ? 'true' : null,
  },
  h('td', { class: 'mono name' }, x.name, x.name === f.load ? h('span', { class: 'star', title: f.loadRule === 'LoadNewestAvailable' ? 'the snapshot etcd starts from' : 'the snapshot Load() picks' }, ' ★') : null),
  h('td', { class: 'num' }, bytes(x.size)),
  h('td', { class: 'verdict' }, verdictBadge(x))), () => onSelect(x.name), `Open ${x.name}`)));
  $('files-table').hidden = false;
  $('keep-row').hidden = false;
}

/** Marks the row of `name` as the one shown. */
export function markSelected(name) {
  for (const tr of $('files-table').tBodies[0].rows) {
    tr.classList.toggle('selected', tr.dataset.name === name);
    if (tr.dataset.name === name) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
  }
}
