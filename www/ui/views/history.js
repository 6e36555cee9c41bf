// The revisions of one key, newest first and selected, and its value as text, JSON or hex
// (a value larger than what was read shows its first part as text when it is UTF-8).
import { h, fill, badge, activatable } from '../dom.js';
import { int, bytes, keyText, valueText, prettyJson, hexDump } from '../format.js';
import { call } from '../rpc.js';
import { guarded } from '../banner.js';
import { clip } from './common.js';

/** Revisions asked for at a time (the worker's `history` op). */
const BATCH = 1000;

/** Draws `hist` (the worker's `history` of key `k` in db `info`: its newest revisions,
 *  oldest first) into `detail`, newest first and selected; "Older" pages further back. */
export function renderHistory(detail, k, hist, info) {
  const kt = keyText(k.key);
  let revs = hist.slice().reverse(); // newest first
  let chosen = 0;
  const list = h('ol', { class: 'history', dataset: { testid: 'history' }, 'aria-label': 'Stored revisions, newest first' });
  const valueBox = h('div', { class: 'value-box' });
  const note = h('div', { class: 'muted small', dataset: { testid: 'history-note' } });
  const older = h('button', { class: 'link', dataset: { testid: 'older' }, onclick: async () => {
    const more = await guarded('Reading history', () => call('history', { dbId: info.id, key: k.key, offset: revs.length }));
    if (!more) return;
    revs = revs.concat(more.slice().reverse());
    draw();
  } });
  function draw() {
    fill(list, revs.map((r, i) => activatable(h('li', { class: [i === chosen && 'selected', r.tombstone && 'tombstone'], 'aria-current': i === chosen ? 'true' : null },
      h('span', { class: 'mono' }, `${r.main}`, r.sub ? `.${r.sub}` : ''),
      r.tombstone ? badge('warn', 'tombstone') : h('span', { class: 'muted' }, ` v${r.version} · ${bytes(r.valueSize)}`)),
    () => { chosen = i; draw(); list.children[i]?.focus(); }, `Revision ${r.main}${r.tombstone ? ', tombstone' : `, version ${r.version}`}`)));
    const all = revs.length >= k.revisions;
    const oldest = revs.at(-1);
    fill(note, `${int(k.revisions)} stored revision${k.revisions === 1 ? '' : 's'}`,
      all ? '' : ` · showing the newest ${int(revs.length)} `,
      all ? null : (older.textContent = `Older ${int(Math.min(BATCH, k.revisions - revs.length))}…`, older),
      // Only the oldest stored revision tells: a put with version > 1 had older versions.
      all && oldest && !oldest.tombstone && oldest.version > 1 ? ` · versions before ${oldest.version} were compacted away` : '');
    renderValue(valueBox, revs[chosen], k, info);
  }
  fill(detail, keyTitle(kt.text), note, h('div', { class: 'hist-split' }, list, valueBox));
  draw();
}

/** The key as the title: a long key is cut to a few lines, the rest one click away. */
function keyTitle(text) {
  const title = h('h2', { class: 'mono key-title', dataset: { testid: 'key-title' } });
  const SHORT = 240;
  if (text.length <= SHORT) return fill(title, text);
  let whole = false;
  const toggle = h('button', { class: 'link small', dataset: { testid: 'key-more' }, onclick: () => { whole = !whole; draw(); } });
  const span = h('span');
  function draw() {
    span.textContent = whole ? clip(text, 65536) : `${text.slice(0, SHORT)}…`;
    toggle.textContent = whole ? ' show less' : ` show all ${int(text.length)} characters`;
  }
  draw();
  return fill(title, span, toggle);
}

function renderValue(box, r, k, info) {
  if (r.tombstone) {
    return fill(box, h('div', { class: 'tomb' }, `Deleted at revision ${r.main}.`), h('table', { class: 'kv' }, h('tbody', {}, h('tr', {}, h('th', {}, 'Stored bytes'), h('td', {}, int(r.size))))));
  }
  const partial = r.valueSize > r.value.length;
  // A cut value may end inside a UTF-8 sequence: drop up to 3 bytes of it before deciding.
  const text = partial ? partialText(r.value) : valueText(r.value);
  const json = !partial && text !== null && text.length <= 8 << 20 ? prettyJson(text) : null;
  const modes = [['text', 'Text', text !== null], ['hex', 'Hex', true], ['json', 'JSON', json !== null]];
  let mode = json !== null ? 'json' : text !== null ? 'text' : 'hex';
  const out = h('pre', { class: 'mono value', tabindex: 0, 'aria-label': 'Value', dataset: { testid: 'value' } });
  const buttons = h('div', { class: 'seg' });
  function draw() {
    fill(buttons, modes.map(([m, label, ok]) => h('button', { class: m === mode ? 'active' : '', disabled: !ok, dataset: { mode: m }, onclick: () => { mode = m; draw(); } }, label)));
    const cap = 1 << 20;
    out.classList.toggle('hex', mode === 'hex');
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
    partial ? h('div', { class: 'muted small' }, `Large value: only its first ${bytes(r.value.length)} were read${text !== null ? ' (UTF-8 text so far; JSON once read whole)' : ' (shown as hex)'}. `,
      h('button', { class: 'link', onclick: async () => {
        const whole = await guarded('Reading value', () => call('value', { dbId: info.id, key: k.key, main: r.main, sub: r.sub }));
        if (whole) renderValue(box, { ...r, value: whole }, k, info);
      } }, `Read all ${bytes(r.valueSize)}`)) : null,
    buttons, out);
  draw();
}


/** The text of the first bytes of a value, if they are UTF-8 (cut anywhere), else null. */
function partialText(b) {
  for (let cut = 0; cut <= 3 && cut < b.length; cut++) {
    const t = valueText(b.subarray(0, b.length - cut));
    if (t !== null) return t;
  }
  return null;
}
