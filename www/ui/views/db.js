// The view of one db (member db, .snap.db or `etcdctl snapshot save` file): tabs for the
// overview, keys, space by prefix and buckets (ui/tabs.js). Every number is the library's.
// The open tab, prefix and key live in the URL's hash (ui/route.js).
import { h, fill, badge } from '../dom.js';
import { int, bytes } from '../format.js';
import { call } from '../rpc.js';
import { card, membersTable, errorBox } from './common.js';
import { renderKeys } from './keys.js';
import { renderSpace } from './space.js';
import { tabs } from '../tabs.js';
import { readRoute, writeRoute, onRoute } from '../route.js';

/** The tabs: [route name, label]. */
const TABS = [['overview', 'Overview'], ['keys', 'Keys'], ['space', 'Space by prefix'], ['buckets', 'Buckets']];

/** Draws the db the worker opened (`info`, see worker.js `openDb`), at the URL's route. */
export function renderDb(view, info) {
  let keys = null;
  const t = tabs('db', TABS, (name, body, { fromRoute } = {}) => {
    if (!fromRoute) writeRoute({ tab: name === 'overview' ? null : name });
    keys = null;
    if (name === 'overview') renderOverview(body, info);
    if (name === 'keys') keys = renderKeys(body, info, writeRoute);
    if (name === 'space') renderSpace(body, info, (p) => { t.show('keys'); keys.setPrefix(p); });
    if (name === 'buckets') renderBuckets(body, info);
  });
  const trailer = info.layout.trailer;
  fill(view,
    h('div', { class: 'view-head' }, h('h1', {}, h('span', { class: 'mono' }, info.name)),
      info.statusError ? badge('bad', 'corrupt', info.statusError.message) : badge('ok', 'consistent', 'bbolt integrity check passed'),
      info.statusError ? null : h('span', { class: 'muted small', dataset: { testid: 'consistent-scope' } }, 'bbolt structure only: values are not checked'),
      trailer === 'verified' ? badge('ok', 'sha256 ok', 'etcdctl snapshot save trailer matches') : null,
      trailer === 'unverified' ? badge('warn', 'sha256 not checked', 'opened without checking the sha256 trailer') : null,
      h('span', { class: 'muted' }, `file size ${bytes(info.size)}`)),
    trailer === 'none' ? h('p', { class: 'note', dataset: { testid: 'no-trailer' } },
      'No sha256 trailer (a bbolt file, not an ', h('span', { class: 'mono' }, 'etcdctl snapshot save'), ' file): ',
      h('span', { class: 'mono' }, 'etcdctl snapshot restore'), ' refuses it without ', h('span', { class: 'mono' }, '--skip-hash-check'), '.') : null,
    info.warnings && info.warnings.length ? h('div', { class: 'note warn', dataset: { testid: 'warnings' } }, info.warnings.map((w) => h('div', {}, `warning: ${w}`))) : null,
    t.bar, t.panel);
  const apply = async (r) => {
    const name = TABS.some(([n]) => n === r.tab) ? r.tab : 'overview';
    t.show(name, { fromRoute: true });
    if (name === 'keys' && keys) await keys.applyRoute(r);
  };
  onRoute(apply);
  apply(readRoute());
}

/** A file that does not open as a db: the library's error, and that nothing changed.
 *  `openAnyway` (when the structure reads without the sha256 check) is offered as a button. */
export async function renderDbError(view, name, e, openAnyway) {
  const anyway = openAnyway && await call('canOpenUnverified', { name }).catch(() => false);
  fill(view, h('div', { class: 'view-head' }, h('h1', {}, h('span', { class: 'mono' }, name)), badge('bad', 'unreadable')),
    h('div', { class: 'error-box', dataset: { testid: 'db-error' } },
      h('div', {}, h('strong', {}, 'This file cannot be read as an etcd db.')),
      h('div', {}, h('span', { class: 'mono code' }, e.code || 'ERROR'), ' ', h('span', { class: 'pre' }, e.message)),
      h('div', { class: 'muted' }, 'Nothing was changed.')),
    anyway ? h('p', {}, 'Its bbolt structure still reads without the sha256 check. ',
      h('button', { dataset: { testid: 'open-anyway' }, onclick: openAnyway }, 'Open anyway')) : null);
}

/** Problems one a line; one bbolt reports several times (a page reached twice) once, with
 *  the count. */
function grouped(problems) {
  const n = new Map();
  for (const p of problems) n.set(p, (n.get(p) || 0) + 1);
  return [...n].map(([p, k]) => (k > 1 ? `${p} (reported ${k} times)` : p)).join('\n');
}

/** The quota line: how much of etcd's default backend quota the db uses. */
// etcd 3.4 prints `snapshot status` with etcdctl, 3.5 and later with etcdutl (the library
// picks the semantics from the db's storage version: InspectDb.schemaVersion()).
function statusTool(info) {
  return info.schema && info.schema.compat !== '3.4' ? 'etcdutl' : 'etcdctl';
}

function quotaRow(info) {
  const q = info.quota.defaultBytes;
  const used = info.layout.highWaterMark;
  const pct = (100 * used) / q;
  return h('tr', {}, h('th', {}, 'Quota'), h('td', { dataset: { testid: 'quota' } },
    `${bytes(used)} in use of etcd's default ${bytes(q)} quota (${pct < 0.1 ? pct.toFixed(2) : pct.toFixed(1)} %)`,
    pct >= 100 ? badge('bad', 'over the default quota') : pct >= 80 ? badge('warn', 'near the default quota') : null,
    h('div', { class: 'muted small' }, 'A member started with --quota-backend-bytes has its own limit; etcd raises NOSPACE when the in-use size would pass it.')));
}

function renderOverview(body, info) {
  const st = info.status;
  const L = info.layout;
  const c = info.cluster;
  const logical = info.buckets ? info.buckets.reduce((a, b) => a + b.keyBytes + b.valueBytes, 0) : null;
  const leaseKeys = new Map((info.leaseKeys || []).map((x) => [String(x.lease), x.keys]));
  // etcdctl's message lists the problems too: they are printed once, in the box.
  const problems = info.problems && info.problems.length ? info.problems : null;
  const statusBox = () => h('div', { class: 'error-box', dataset: { testid: 'status-error' } },
    h('span', { class: 'mono code' }, info.statusError.code || 'ERROR'), ' ',
    h('span', { class: 'pre' }, problems ? info.statusError.message.split('\n')[0] : info.statusError.message),
    problems ? h('details', { open: true, dataset: { testid: 'problems' } }, h('summary', {}, `${problems.length} integrity problem${problems.length === 1 ? '' : 's'}`),
      h('pre', { class: 'mono', tabindex: 0 }, grouped(problems))) : null);
  fill(body,
    h('h2', {}, 'Alarms and quota'),
    h('table', { class: 'kv' }, h('tbody', {},
      h('tr', {}, h('th', {}, 'Alarms'), h('td', { dataset: { testid: 'alarms' } }, c
        ? (c.alarms.length ? c.alarms.map((a) => [badge('bad', `${a.alarm} on member ${a.memberId}`), a.alarm === 'NOSPACE' ? h('div', { class: 'small' }, 'etcd refuses writes (mvcc: database space exceeded) until the alarm is disarmed after compaction and defragmentation.') : null]) : 'none')
        : '—')),
      quotaRow(info))),
    h('h2', {}, 'Sizes'),
    h('table', { class: 'kv', dataset: { testid: 'sizes' } }, h('tbody', {},
      h('tr', {}, h('th', {}, 'File size'), h('td', {}, `${bytes(L.size)} · ${int(L.size)} bytes`, h('div', { class: 'muted small' }, 'the file as opened'))),
      h('tr', {}, h('th', {}, 'In use (high water mark)'), h('td', {}, `${bytes(L.highWaterMark)} · ${int(L.highWaterMark)} bytes`, h('div', { class: 'muted small' }, `pages bbolt has allocated (${int(L.highWaterMark / L.pageSize)} of ${int(L.pageSize)} bytes); etcd's quota and etcdctl's TOTAL SIZE count these`))),
      st ? h('tr', {}, h('th', {}, 'etcdctl TOTAL SIZE'), h('td', {}, `${info.statusSize}`, h('div', { class: 'muted small' }, 'the in-use size as etcdctl prints it (decimal units: 1 MB = 1,000,000 bytes)'))) : null,
      logical !== null ? h('tr', {}, h('th', {}, 'Logical'), h('td', {}, `${bytes(logical)} · ${int(logical)} bytes`, h('div', { class: 'muted small' }, 'key and value bytes in all buckets; the rest is page overhead and free pages'))) : null)),
    h('h2', {}, 'Status ', h('span', { class: 'muted small', dataset: { testid: 'status-semantics' } }, `(${statusTool(info)} snapshot status, etcd ${info.schema ? info.schema.compat : '3.4'} semantics${info.schema && info.schema.storageVersion ? `: storage version ${info.schema.storageVersion}` : ''})`)),
    st ? h('div', { class: 'cards' },
      card('Hash', String(st.hash), 'status-hash', `hex ${st.hash.toString(16)}`),
      card('Revision', String(st.revision), 'status-revision'),
      card('Total keys', String(st.totalKey), 'status-totalKey', st.version !== undefined ? 'distinct live user keys (etcd 3.6)' : 'entries in all buckets'),
      card('Total size', String(st.totalSize), 'status-totalSize', info.statusSize),
    ) : statusBox(),
    st ? h('pre', { class: 'mono etcdctl', tabindex: 0, 'aria-label': 'etcdctl snapshot status table' }, `${statusTool(info)} snapshot status -w table\n${info.statusTable.replace(/\n$/, '')}`) : null,
    h('h2', {}, 'Keyspace'),
    info.index ? h('div', { class: 'cards' },
      card('Current revision', String(info.index.currentRevision), 'index-current'),
      card('Compacted at', String(info.index.compactRevision), 'index-compact'),
      card('Keys incl. deleted', int(info.index.keys), 'index-keys', 'user keys with any stored revision, deleted ones too'),
      card('Live keys', info.liveKeys === undefined ? '—' : int(info.liveKeys), 'index-live', 'keys live at the current revision: what etcdctl get "" --prefix returns'),
      card('Revisions', int(info.index.revisions), 'index-revisions', 'stored revisions (puts and tombstones)')) : errorBox(info.indexError, 'index-error'),
    h('h2', {}, 'File'),
    h('table', { class: 'kv' }, h('tbody', {},
      h('tr', {}, h('th', {}, 'Page size'), h('td', {}, `${int(L.pageSize)} bytes`)),
      h('tr', {}, h('th', {}, 'Transaction id'), h('td', {}, int(L.txid))),
      h('tr', {}, h('th', {}, 'sha256 trailer'), h('td', {}, L.trailer === 'none' ? 'none (a bbolt file)' : `${L.trailer} (etcdctl snapshot save)`)))),
    c ? [
      h('h2', {}, 'Meta'),
      h('table', { class: 'kv' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Consistent index'), h('td', { class: 'mono', dataset: { testid: 'meta-ci' } }, String(c.meta.consistentIndex ?? '—'))),
        h('tr', {}, h('th', {}, 'Term'), h('td', { class: 'mono' }, String(c.meta.term ?? '— (etcd 3.4 does not store it)'))),
        h('tr', {}, h('th', {}, 'Compaction (scheduled / finished)'), h('td', { class: 'mono' }, `${c.meta.scheduledCompactRevision ?? '—'} / ${c.meta.finishedCompactRevision ?? '—'}`)),
        c.meta.confState ? h('tr', {}, h('th', {}, 'Conf state'), h('td', { class: 'mono' }, c.meta.confState)) : null,
        c.meta.storageVersion ? h('tr', {}, h('th', {}, 'Storage version'), h('td', { class: 'mono' }, c.meta.storageVersion)) : null,
        h('tr', {}, h('th', {}, 'Cluster version'), h('td', { class: 'mono' }, c.clusterVersion || '—')))),
      h('h2', {}, 'Members ', h('span', { class: 'muted small' }, '(members bucket)')),
      membersTable(c.members),
      c.removedMembers.length ? h('p', {}, 'Removed: ', h('span', { class: 'mono' }, c.removedMembers.join(', '))) : null,
      h('h2', {}, `Leases (${int(c.leases.length)})`),
      c.leases.length ? h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Leases' }, h('table', { class: 'grid', dataset: { testid: 'leases' } },
        h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', { class: 'num' }, 'TTL'), h('th', { class: 'num' }, 'Remaining TTL'), h('th', { class: 'num' }, 'Keys attached'))),
        h('tbody', {}, c.leases.slice(0, 200).map((l) => h('tr', {},
          h('td', { class: 'mono' }, BigInt(l.id).toString(16)),
          h('td', { class: 'num' }, `${l.ttl} s`),
          h('td', { class: 'num', title: l.remainingTtl ? 'checkpointed remaining TTL' : 'etcd 3.4 persists the remaining TTL only with lease checkpointing (--experimental-enable-lease-checkpoint); on start a lease gets its full TTL again' },
            l.remainingTtl ? `${l.remainingTtl} s` : h('span', { class: 'muted' }, 'not persisted')),
          h('td', { class: 'num' }, info.leaseKeys ? int(leaseKeys.get(String(l.id)) || 0) : '—'))))))
        : h('p', { class: 'muted' }, 'No leases.'),
      h('h2', {}, 'Auth'),
      h('table', { class: 'kv' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Auth'), h('td', {}, c.auth.enabled ? 'enabled' : 'disabled', c.auth.users.length ? ` · users: ${c.auth.users.map((u) => u.name).join(', ')}` : '', c.auth.roles.length ? ` · roles: ${c.auth.roles.join(', ')}` : '')))),
    ] : errorBox(info.clusterError, 'cluster-error'),
  );
}

function renderBuckets(body, info) {
  if (!info.buckets) return fill(body, errorBox(info.bucketsError, 'buckets-error'));
  fill(body, h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Buckets' }, h('table', { class: 'grid', dataset: { testid: 'buckets' } },
    h('thead', {}, h('tr', {}, ['Bucket', 'Entries', 'Key bytes', 'Value bytes', 'Leaf pages', 'Branch pages', 'Overflow pages', 'Depth'].map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
    h('tbody', {}, info.buckets.map((b) => h('tr', {},
      h('td', { class: 'mono' }, b.name), h('td', { class: 'num' }, int(b.keys)), h('td', { class: 'num' }, int(b.keyBytes)), h('td', { class: 'num' }, int(b.valueBytes)),
      h('td', { class: 'num' }, b.pages.inline ? 'inline' : int(b.pages.leaf)), h('td', { class: 'num' }, int(b.pages.branch)), h('td', { class: 'num' }, int(b.pages.overflow)), h('td', { class: 'num' }, String(b.pages.depth))))))));
}
