// The view of one db (member db, .snap.db or `etcdctl snapshot save` file): tabs for the
// overview, keys, space by prefix and buckets. Every number is the library's.
import { h, fill, badge } from '../dom.js';
import { int, bytes } from '../format.js';
import { card, membersTable, errorBox } from './common.js';
import { renderKeys } from './keys.js';
import { renderSpace } from './space.js';

/** Draws the db the worker opened (`info`, see worker.js `openDb`). */
export function renderDb(view, info) {
  const tabs = ['Overview', 'Keys', 'Space by prefix', 'Buckets'];
  const body = h('div', { class: 'tab-body' });
  const bar = h('div', { class: 'tabs', role: 'tablist' }, tabs.map((t) => h('button', {
    role: 'tab', class: 'tab', dataset: { tab: t },
    onclick: () => show(t),
  }, t)));
  let keys = { setPrefix: () => {} };
  function show(t) {
    for (const b of bar.children) b.classList.toggle('active', b.dataset.tab === t);
    if (t === 'Overview') renderOverview(body, info);
    if (t === 'Keys') keys = renderKeys(body, info);
    if (t === 'Space by prefix') renderSpace(body, info, (p) => { show('Keys'); keys.setPrefix(p); });
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

/** A file that does not open as a db: the library's error, and that nothing changed. */
export function renderDbError(view, name, e) {
  fill(view, h('div', { class: 'view-head' }, h('h2', {}, h('span', { class: 'mono' }, name)), badge('bad', 'unreadable')),
    h('div', { class: 'error-box', dataset: { testid: 'db-error' } },
      h('div', {}, h('strong', {}, 'This file cannot be read as an etcd db.')),
      h('div', {}, h('span', { class: 'mono code' }, e.code || 'ERROR'), ' ', h('span', { class: 'pre' }, e.message)),
      h('div', { class: 'muted' }, 'Nothing was changed.')));
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
      card('Total size', String(st.totalSize), 'status-totalSize', info.statusSize),
    ) : errorBox(info.statusError, 'status-error'),
    st ? h('pre', { class: 'mono etcdctl' }, `etcdctl snapshot status -w table\n${info.statusTable.replace(/\n$/, '')}`) : null,
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
