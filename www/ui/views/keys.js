// The key browser: keys under a prefix, optionally containing a substring, live only, sorted
// by key, stored bytes or revisions (the library pages and sorts: InspectDb.keys), a page at
// a time; Enter or a click on a row shows its history (views/history.js). The list can be
// exported as CSV or as etcdctl commands (ui/export.js).
import { h, fill, badge, activatable } from '../dom.js';
import { int, bytes, keyText } from '../format.js';
import { call } from '../rpc.js';
import { guarded } from '../banner.js';
import { cursorPager } from '../paging.js';
import { errorBox, clip } from './common.js';
import { renderHistory } from './history.js';
import { exportKeys } from '../export.js';

/** Keys per page. */
const PAGE = 100;
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Draws the key browser of db `info`; `route(r)` records { tab, prefix, key } in the URL.
 *  Returns `{ setPrefix(p), applyRoute(r) }`. */
export function renderKeys(body, info, route = () => {}) {
  if (!info.index) {
    fill(body, errorBox(info.indexError, 'index-error'));
    return { setPrefix: () => {}, applyRoute: async () => {} };
  }
  let prefix = '';
  let selectedKey = null;
  const pager = cursorPager();
  const input = h('input', { type: 'search', class: 'mono', placeholder: 'key prefix, e.g. /registry/pods/', spellcheck: 'false', 'aria-label': 'Key prefix', dataset: { testid: 'prefix' } });
  const contains = h('input', { type: 'search', class: 'mono', placeholder: 'contains…', spellcheck: 'false', 'aria-label': 'Key contains', dataset: { testid: 'contains' } });
  const sort = h('select', { 'aria-label': 'Sort keys by', dataset: { testid: 'sort' }, onchange: () => reset() },
    h('option', { value: 'key' }, 'by key'), h('option', { value: 'bytes' }, 'by stored bytes'), h('option', { value: 'revisions' }, 'by revisions'));
  const liveOnly = h('input', { type: 'checkbox', id: 'hide-deleted', dataset: { testid: 'hide-deleted' }, onchange: () => reset() });
  const status = h('span', { class: 'muted', role: 'status', dataset: { testid: 'keys-status' } });
  const prev = h('button', { dataset: { testid: 'prev' }, onclick: () => { if (pager.prev()) load(); } }, '‹ Prev');
  const next = h('button', { dataset: { testid: 'next' }, onclick: () => { pager.next(); load(); } }, 'Next ›');
  const exportCsv = h('button', { dataset: { testid: 'export-csv' }, title: 'Every key of the current list as CSV', onclick: () => exportKeys(info, query(), 'csv') }, 'Export CSV');
  const exportCtl = h('button', { dataset: { testid: 'export-etcdctl' }, title: 'An etcdctl get line per key of the current list', onclick: () => exportKeys(info, query(), 'etcdctl') }, 'etcdctl lines');
  const tbody = h('tbody');
  const placeholder = () => h('p', { class: 'muted' }, 'Select a key to see its revisions.');
  const detail = h('div', { class: 'key-detail', dataset: { testid: 'key-detail' } }, placeholder());
  let total = null;
  let timer;
  const onType = () => { clearTimeout(timer); timer = setTimeout(() => setPrefix(input.value, false), 250); };
  input.addEventListener('input', onType);
  contains.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => reset(), 250); });
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(timer); setPrefix(input.value, false); } });
  contains.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(timer); reset(); } });

  /** The list's query without paging. */
  const query = () => ({ prefix, contains: contains.value || undefined, liveOnly: liveOnly.checked, sort: sort.value });

  /** The list changed: back to page 1, and the key shown no longer belongs to it. */
  function reset() {
    pager.reset(); total = null;
    selectedKey = null;
    fill(detail, placeholder());
    return load();
  }
  function setPrefix(p, updateInput = true, { record = true } = {}) {
    if (updateInput) input.value = p;
    if (p === prefix && total !== null) return Promise.resolve();
    prefix = p;
    if (record) route({ tab: 'keys', prefix });
    return reset();
  }
  let loading = 0;
  async function load() {
    const my = ++loading;
    const byKey = sort.value === 'key';
    const res = await guarded('Listing keys', () => call('keys', {
      dbId: info.id, ...query(), limit: PAGE, count: total === null,
      after: byKey ? pager.after : undefined, offset: byKey ? undefined : pager.page * PAGE,
    }));
    if (!res || my !== loading) return;
    if (res.total !== null) total = res.total;
    const from = pager.page * PAGE;
    pager.got(byKey ? res.next : (from + res.keys.length < total ? 'more' : null));
    status.textContent = res.keys.length ? `${int(from + 1)}–${int(from + res.keys.length)} of ${int(total)} keys` : `0 of ${int(total)} keys`;
    prev.disabled = pager.page === 0;
    next.disabled = byKey ? !res.next : from + res.keys.length >= total;
    fill(tbody, res.keys.map((k) => {
      const kt = keyText(k.key);
      const row = h('tr', { class: ['key-row', !k.live && 'deleted', selectedKey && same(selectedKey, k.key) && 'selected'] },
        h('td', { class: 'mono key', title: clip(kt.text, 4096) }, clip(kt.text, 300), kt.binary ? badge('muted', 'bin') : null),
        h('td', { class: 'num' }, String(k.revisions)),
        h('td', { class: 'num mono' }, String(k.lastRevision)),
        h('td', { class: 'num' }, bytes(k.bytes)),
        h('td', {}, k.live ? badge('ok', 'live') : badge('warn', 'deleted')));
      return activatable(row, () => {
        for (const r of tbody.rows) r.classList.remove('selected');
        row.classList.add('selected');
        showKey(k);
      }, `Key ${clip(kt.text, 200)}`);
    }));
  }
  async function showKey(k, { record = true } = {}) {
    selectedKey = k.key;
    if (record) route({ tab: 'keys', prefix, key: k.key });
    const hist = await guarded('Reading history', () => call('history', { dbId: info.id, key: k.key }));
    if (!hist || selectedKey !== k.key) return;
    renderHistory(detail, k, hist, info);
  }
  /** Shows the route's prefix and key (a bookmark, Back / Forward). */
  async function applyRoute(r) {
    await setPrefix(r.prefix || '', true, { record: false });
    if (!r.key) { if (selectedKey) { selectedKey = null; fill(detail, placeholder()); } return; }
    if (selectedKey && same(selectedKey, r.key)) return;
    const res = await call('keys', { dbId: info.id, prefix: r.key, limit: 1 }).catch(() => null);
    const k = res && res.keys.find((x) => same(x.key, r.key));
    if (k) await showKey(k, { record: false });
  }
  fill(body,
    h('div', { class: 'toolbar' }, input, contains, sort,
      h('label', { class: 'check' }, liveOnly, ' hide deleted'),
      status, h('span', { class: 'spacer' }), prev, next, exportCsv, exportCtl),
    h('div', { class: 'split' },
      h('div', { class: 'key-list', tabindex: 0, role: 'region', 'aria-label': 'Keys' }, h('table', { class: 'grid keys', dataset: { testid: 'keys' } },
        h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', { class: 'num' }, 'Revs'), h('th', { class: 'num' }, 'Last rev'), h('th', { class: 'num' }, 'Stored'), h('th', {}, 'State'))),
        tbody)),
      detail));
  load();
  return { setPrefix, applyRoute };
}
