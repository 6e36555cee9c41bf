// Space used by key prefix: the worker sums every stored revision by prefix; a bar opens
// the key browser on its prefix.
import { h, fill } from '../dom.js';
import { spaceChart } from '../chart.js';
import { call } from '../rpc.js';
import { guarded } from '../banner.js';
import { errorBox } from './common.js';

/** Draws the space chart of db `info`; `onPick(prefix)` on a bar click. */
export async function renderSpace(body, info, onPick) {
  if (!info.index) return fill(body, errorBox(info.indexError, 'index-error'));
  let depth = 1;
  const holder = h('div', { class: 'chart-holder' });
  const sel = h('select', { onchange: (e) => { depth = Number(e.target.value); draw(); } },
    [1, 2, 3, 4].map((d) => h('option', { value: d }, `depth ${d}`)));
  fill(body, h('div', { class: 'toolbar' }, h('span', {}, 'Bytes of every stored revision (puts and tombstones) in the key bucket, by key prefix cut after the n-th "/". Click a bar to browse its keys.'), sel), holder);
  async function draw(auto = false) {
    fill(holder, h('div', { class: 'loading' }, 'Summing…'));
    let items = await guarded('Summing space', () => call('space', { dbId: info.id, depth }));
    // Drill down while one prefix holds nearly everything (etcd keys start with "/registry/").
    while (auto && items && items.length && depth < 4) {
      const total = items.reduce((a, x) => a + x.bytes, 0);
      if (items[0].bytes < 0.9 * total) break;
      const deeper = await guarded('Summing space', () => call('space', { dbId: info.id, depth: depth + 1 }));
      if (!deeper || deeper.length <= items.length) break;
      depth++;
      items = deeper;
    }
    sel.value = String(depth);
    if (items) fill(holder, items.length ? spaceChart(items, { onPick }) : h('p', { class: 'muted' }, 'No keys.'));
  }
  draw(true);
}
