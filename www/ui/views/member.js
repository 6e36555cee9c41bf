// A member's data dir (issue 10): the doctor's verdict first, in the library's sentence; then
// the WAL: its segments, the snapshot records and HardState, the entries after the snapshot by
// kind over index, and a paged list of entries decoded in the worker as etcd-dump-logs shows
// them. Nothing here decides what etcd does: every verdict comes from the library.
import { h, fill, badge, plural } from '../dom.js';
import { bytes, int } from '../format.js';
import { call } from '../rpc.js';

const $ = (id) => document.getElementById(id);
const PAGE = 100;

/** Hides the member panels (a folder without a WAL). */
export function clearMember() {
  $('member-verdict').hidden = true;
  $('member-view').hidden = true;
}

/** Draws `member` (the worker's `describeMember`). */
export function renderMember(member) {
  const v = $('member-verdict');
  v.hidden = false;
  const cls = member.verdict === 'starts' ? 'ok' : member.verdict === 'fails' ? 'bad' : 'warn';
  fill(v,
    h('h2', {}, 'What etcd does with this data dir'),
    member.error
      ? h('p', { class: 'note bad', dataset: { testid: 'verdict' } }, `The doctor could not read the member: ${member.error.message}`)
      : h('p', { class: ['verdict', cls], dataset: { testid: 'verdict' } }, member.summary),
    member.pick
      ? h('p', { dataset: { testid: 'real-pick' } }, 'etcd starts from ', h('span', { class: 'mono' }, member.pick),
        h('span', { class: 'muted small' }, ' (LoadNewestAvailable: the newest .snap that reads and that the WAL records)'))
      : null,
    member.walVersion?.version
      ? h('p', { class: 'small', dataset: { testid: 'wal-version' } }, 'The WAL after the snapshot needs etcd ',
        h('span', { class: 'mono' }, member.walVersion.version), ` or later (${member.walVersion.by}, entry ${member.walVersion.index}): `,
        h('span', { class: 'muted' }, 'etcd 3.6’s MinimalEtcdVersion; etcdutl migrate refuses a downgrade below it'))
      : member.walVersion?.error
        ? h('p', { class: 'small', dataset: { testid: 'wal-version' } }, badge('warn', 'WAL version'), ` etcd 3.6 cannot tell this WAL’s version: ${member.walVersion.error}`)
        : null,
    member.warnings?.length
      ? h('ul', { class: 'warnings', dataset: { testid: 'doctor-warnings' } }, member.warnings.map((w) =>
        h('li', {}, badge('warn', w.kind.replaceAll('_', ' ')), ' ', w.message,
          w.names.length ? h('span', { class: 'mono small' }, `: ${w.names.join(', ')}`) : null)))
      : null,
    member.steps?.length
      ? h('details', {}, h('summary', {}, plural(member.steps.length, 'bootstrap step')),
        h('ol', { class: 'steps' }, member.steps.map((s) =>
          h('li', {}, h('span', { class: 'mono' }, s.id), `: ${s.outcome} `, h('span', { class: 'muted small' }, `(${s.cite})`)))))
      : null,
  );
  renderWal(member);
}

function renderWal(member) {
  const box = $('member-view');
  box.hidden = false;
  const w = member.wal;
  if (!w) {
    fill(box, h('h2', {}, 'WAL'), h('p', { class: 'note bad' }, member.walError?.message || 'The WAL does not read.'));
    return;
  }
  const timeline = h('div', { class: 'wal-timeline', dataset: { testid: 'wal-timeline' } }, h('span', { class: 'muted' }, 'Reading entries…'));
  const list = h('div', { class: 'wal-entries', dataset: { testid: 'wal-entries' } });
  fill(box,
    h('h2', {}, 'WAL ', h('span', { class: 'muted small' }, `member ${w.nodeId} · cluster ${w.clusterId}`)),
    h('p', { dataset: { testid: 'wal-state' } },
      `HardState term ${w.hardState.term}, commit ${w.hardState.commit}, vote ${w.hardState.vote}; `,
      w.snapshot ? `read from snapshot ${w.snapshot.term}/${w.snapshot.index}; ` : 'read from the start (no snapshot); ',
      `${plural(w.entries, 'entry', 'entries')} after it, last index ${w.lastIndex ?? '—'}.`,
      w.readError ? [' ', badge('warn', 'torn tail', w.readError)] : null),
    h('table', { class: 'files', dataset: { testid: 'wal-segments' } },
      h('thead', {}, h('tr', {}, h('th', {}, 'Segment'), h('th', { class: 'num' }, 'First index'), h('th', { class: 'num' }, 'Size'))),
      h('tbody', {}, w.segments.map((s) => h('tr', {}, h('td', { class: 'mono' }, s.name), h('td', { class: 'num' }, s.index), h('td', { class: 'num' }, bytes(s.size)))))),
    member.walSnapshots?.length
      ? h('p', { class: 'small' }, 'Snapshot records (term/index, at or below the commit): ',
        h('span', { class: 'mono' }, member.walSnapshots.map((s) => `${s.term}/${s.index}`).join(', ')))
      : null,
    h('h3', {}, 'Entries after the snapshot, by kind over index'),
    timeline,
    h('h3', {}, 'Entries'),
    list,
  );
  call('walTimeline', { buckets: 60 }).then((t) => drawTimeline(timeline, t), (e) => fill(timeline, h('span', { class: 'note bad' }, e.message)));
  showPage(list, 0);
}

/** Sets styles through the CSSOM (the page's CSP allows no inline style attributes). */
function css(el, styles) {
  Object.assign(el.style, styles);
  return el;
}

const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

function drawTimeline(box, t) {
  if (!t.buckets.length) return fill(box, h('span', { class: 'muted' }, 'No entries after the snapshot.'));
  const color = (k) => COLORS[t.kinds.indexOf(k) % COLORS.length];
  const max = Math.max(...t.buckets.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0)));
  fill(box,
    h('div', { class: 'legend small' }, t.kinds.map((k) => h('span', { class: 'legend-item' },
      css(h('span', { class: 'swatch' }), { background: color(k) }), ` ${k} `))),
    h('div', { class: 'bars', role: 'img', 'aria-label': `entries ${t.first} to ${t.last} by kind` },
      t.buckets.map((b) => {
        const total = Object.values(b.counts).reduce((a, c) => a + c, 0);
        const title = `${b.from}–${b.to}: ` + Object.entries(b.counts).map(([k, n]) => `${n} ${k}`).join(', ');
        return css(h('div', { class: 'bar', title },
          Object.entries(b.counts).map(([k, n]) => css(h('div', {}), { flex: String(n), background: color(k) }))),
        { height: `${Math.max(4, Math.round((100 * total) / max))}%` });
      })),
    h('div', { class: 'axis small muted' }, h('span', {}, int(t.first)), h('span', {}, int(t.last))),
  );
}

async function showPage(box, offset) {
  fill(box, h('span', { class: 'muted' }, 'Decoding…'));
  let p;
  try {
    p = await call('walPage', { offset, limit: PAGE });
  } catch (e) {
    return fill(box, h('span', { class: 'note bad' }, e.message));
  }
  const end = Math.min(p.count, offset + p.list.length);
  fill(box,
    h('div', { class: 'row' },
      h('span', { dataset: { testid: 'wal-page' } }, p.count ? `${int(offset + 1)}–${int(end)} of ${int(p.count)}` : 'none'),
      h('button', { disabled: offset === 0, onclick: () => showPage(box, Math.max(0, offset - PAGE)) }, 'Previous'),
      h('button', { disabled: end >= p.count, onclick: () => showPage(box, offset + PAGE) }, 'Next')),
    h('table', { class: 'wal-list' },
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, 'term'), h('th', { class: 'num' }, 'index'), h('th', {}, 'type'), h('th', {}, 'data'))),
      h('tbody', {}, p.list.map((e) => h('tr', {},
        h('td', { class: 'num' }, e.term), h('td', { class: 'num' }, e.index), h('td', {}, e.type),
        h('td', { class: 'mono small' }, e.text))))),
  );
}
