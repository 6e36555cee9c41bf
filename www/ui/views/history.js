// The revisions of one key, newest selected, and its value as text, JSON or hex.
import { h, fill, badge } from '../dom.js';
import { int, bytes, keyText, valueText, prettyJson, hexDump } from '../format.js';
import { call } from '../rpc.js';
import { guarded } from '../banner.js';
import { clip } from './common.js';

/** Draws `hist` (the worker's `history` of key `k` in db `info`) into `detail`. */
export function renderHistory(detail, k, hist, info) {
  const kt = keyText(k.key);
  let chosen = hist.length - 1;
  const list = h('ol', { class: 'history', dataset: { testid: 'history' } });
  const valueBox = h('div', { class: 'value-box' });
  function draw() {
    fill(list, hist.map((r, i) => h('li', { class: [i === chosen && 'selected', r.tombstone && 'tombstone'], onclick: () => { chosen = i; draw(); } },
      h('span', { class: 'mono' }, `${r.main}`, r.sub ? `.${r.sub}` : ''),
      r.tombstone ? badge('warn', 'tombstone') : h('span', { class: 'muted' }, ` v${r.version} · ${bytes(r.valueSize)}`))));
    renderValue(valueBox, hist[chosen], k, info);
  }
  fill(detail,
    h('h3', { class: 'mono key-title', dataset: { testid: 'key-title' } }, clip(kt.text, 65536)),
    h('div', { class: 'muted small' }, `${int(k.revisions)} stored revision${k.revisions === 1 ? '' : 's'}`,
      hist.length < k.revisions ? ` · showing the newest ${int(hist.length)}` : '',
      hist.length && !hist[0].tombstone && hist[0].version > 1 ? ` · versions before ${hist[0].version} were compacted away` : ''),
    h('div', { class: 'hist-split' }, list, valueBox));
  draw();
}

function renderValue(box, r, k, info) {
  if (r.tombstone) {
    return fill(box, h('div', { class: 'tomb' }, `Deleted at revision ${r.main}.`), h('table', { class: 'kv' }, h('tbody', {}, h('tr', {}, h('th', {}, 'Stored bytes'), h('td', {}, int(r.size))))));
  }
  const partial = r.valueSize > r.value.length;
  const text = partial ? null : valueText(r.value);
  const json = text !== null && text.length <= 8 << 20 ? prettyJson(text) : null;
  const modes = [['text', 'Text', text !== null], ['hex', 'Hex', true], ['json', 'JSON', json !== null]];
  let mode = json !== null ? 'json' : text !== null ? 'text' : 'hex';
  const out = h('pre', { class: 'mono value', dataset: { testid: 'value' } });
  const buttons = h('div', { class: 'seg' });
  function draw() {
    fill(buttons, modes.map(([m, label, ok]) => h('button', { class: m === mode ? 'active' : '', disabled: !ok, dataset: { mode: m }, onclick: () => { mode = m; draw(); } }, label)));
    const cap = 1 << 20;
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
    partial ? h('div', { class: 'muted small' }, `Large value: only its first ${bytes(r.value.length)} were read (shown as hex). `,
      h('button', { class: 'link', onclick: async () => {
        const whole = await guarded('Reading value', () => call('value', { dbId: info.id, key: k.key, main: r.main, sub: r.sub }));
        if (whole) renderValue(box, { ...r, value: whole }, k, info);
      } }, `Read all ${bytes(r.valueSize)}`)) : null,
    buttons, out);
  draw();
}

