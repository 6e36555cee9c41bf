// The key browser: keys under a prefix, a page at a time (ui/paging.js), each with its
// revisions and state; a click shows its history (views/history.js).
import { h, fill, badge } from '../dom.js';
import { int, bytes, keyText } from '../format.js';
import { call } from '../rpc.js';
import { guarded } from '../banner.js';
import { cursorPager } from '../paging.js';
import { errorBox, clip } from './common.js';
import { renderHistory } from './history.js';

/** Keys per page. */
const PAGE = 100;

/** Draws the key browser of db `info`; returns `{ setPrefix(p) }` to browse a prefix. */
export function renderKeys(body, info) {
  if (!info.index) {
    fill(body, errorBox(info.indexError, 'index-error'));
    return { setPrefix: () => {} };
  }
  let prefix = '';
  const pager = cursorPager();
  const input = h('input', { type: 'search', class: 'mono', placeholder: 'key prefix, e.g. /registry/pods/', spellcheck: 'false', 'aria-label': 'Key prefix', dataset: { testid: 'prefix' } });
  const status = h('span', { class: 'muted', dataset: { testid: 'keys-status' } });
  const prev = h('button', { dataset: { testid: 'prev' }, onclick: () => { if (pager.prev()) load(); } }, '‹ Prev');
  const next = h('button', { dataset: { testid: 'next' }, onclick: () => { pager.next(); load(); } }, 'Next ›');
  const tbody = h('tbody');
  const detail = h('div', { class: 'key-detail' }, h('p', { class: 'muted' }, 'Select a key to see its revisions.'));
  let total = null;
  let timer;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => setPrefix(input.value, false), 250); });
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { clearTimeout(timer); setPrefix(input.value, false); } });
  function setPrefix(p, updateInput = true) {
    if (updateInput) input.value = p;
    prefix = p; pager.reset(); total = null;
    load();
  }
  let loading = 0;
  async function load() {
    const my = ++loading;
    const res = await guarded('Listing keys', () => call('keys', { dbId: info.id, prefix, after: pager.after, limit: PAGE, count: total === null }));
    if (!res || my !== loading) return;
    if (res.total !== null) total = res.total;
    pager.got(res.next);
    const from = pager.page * PAGE;
    status.textContent = res.keys.length ? `${int(from + 1)}–${int(from + res.keys.length)} of ${int(total)} keys` : `0 of ${int(total)} keys`;
    prev.disabled = pager.page === 0;
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
  return { setPrefix };
}
