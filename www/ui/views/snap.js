// The view of one .snap: etcd's verdict, term/index, conf state, the v2 store's members.
import { h, fill, badge } from '../dom.js';
import { int, bytes } from '../format.js';
import { card, memberId, membersTable } from './common.js';

/** Draws `.snap` entry `f` of `folder`; `onSelect(name)` opens the db sent with it. */
export function renderSnap(view, f, folder, onSelect) {
  const head = h('div', { class: 'view-head' },
    h('h1', {}, h('span', { class: 'mono' }, f.name)),
    f.verdict === 'ok' ? badge('ok', 'CRC ok') : badge('bad', f.code || 'broken'),
    f.name === folder.load ? badge('info', 'etcd would load this') : null);
  if (f.verdict !== 'ok') {
    return fill(view, head,
      h('div', { class: 'error-box', dataset: { testid: 'snap-error' } },
        h('div', {}, h('strong', {}, 'etcd cannot read this snapshot: '), h('span', { class: 'mono' }, f.verdict)),
        h('div', { class: 'muted' }, `etcd's Load would skip it and rename it to ${f.brokenName}; viewing renames nothing.`)),
      f.term !== null ? h('p', {}, 'Its name says term ', h('span', { class: 'mono' }, f.term), ', index ', h('span', { class: 'mono' }, f.index), '.') : null);
  }
  const sn = f.snapshot;
  const cs = sn.confState;
  const dbName = sn.dbName;
  const hasDb = folder.files.some((x) => x.name === dbName);
  const memberDb = folder.files.find((x) => x.kind === 'live-db');
  fill(view, head,
    h('div', { class: 'cards' },
      card('Term', sn.term, 'snap-term'),
      card('Index', sn.index, 'snap-index'),
      card('Voters', String(cs.voters.length), 'snap-voters-count'),
      card('Data', sn.dataNil ? 'nil' : bytes(sn.dataLen), 'snap-data', `${int(sn.dataLen)} bytes of v2 store JSON`)),
    h('h2', {}, 'Conf state'),
    h('table', { class: 'kv' }, h('tbody', {},
      ['voters', 'learners', 'votersOutgoing', 'learnersNext'].map((k) => h('tr', {},
        h('th', {}, k), h('td', { dataset: { testid: `conf-${k}` } }, cs[k].length ? cs[k].map((v, i) => [i ? ', ' : '', memberId(v)]) : h('span', { class: 'muted' }, 'none')))),
      h('tr', {}, h('th', {}, 'autoLeave'), h('td', {}, String(cs.autoLeave))))),
    h('h2', {}, 'Members ', h('span', { class: 'muted small' }, '(from the v2 store in the snapshot data)')),
    f.v2 ? [
      membersTable(f.v2.members),
      h('table', { class: 'kv' }, h('tbody', {},
        h('tr', {}, h('th', {}, 'Cluster version'), h('td', { class: 'mono' }, f.v2.clusterVersion || '—')),
        h('tr', {}, h('th', {}, 'Removed members'), h('td', { class: 'mono' }, f.v2.removedMembers.join(', ') || '—')),
        h('tr', {}, h('th', {}, 'v2 store index'), h('td', { class: 'mono' }, f.v2.currentIndex)),
        h('tr', {}, h('th', {}, 'v2 keys'), h('td', { class: 'mono' }, int(f.v2.v2Keys))))),
    ] : f.v2Error ? h('div', { class: 'error-box' }, f.v2Error.message) : h('p', { class: 'muted' }, 'No data.'),
    h('h2', {}, 'v3 keyspace'),
    hasDb
      ? h('p', {}, 'The db sent with this snapshot: ', h('button', { class: 'link mono', onclick: () => onSelect(dbName) }, dbName))
      : h('p', { class: 'muted' }, `In etcd 3.4 the v3 keyspace lives in the member db (or in ${dbName} on a follower that received this snapshot).`),
    memberDb ? h('p', { dataset: { testid: 'member-db-link' } }, 'The member db beside it: ', h('button', { class: 'link mono', onclick: () => onSelect(memberDb.name) }, memberDb.name)) : null,
  );
}

/** A file etcd ignores (a `.broken`, a temp file): its name and verdict only. */
export function renderLeftover(view, f) {
  fill(view, h('h1', {}, h('span', { class: 'mono' }, f.name)), h('p', { class: 'muted' }, 'A leftover file etcd ignores. ', f.verdict || ''));
}
