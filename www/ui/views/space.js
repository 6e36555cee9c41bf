// Space used by key prefix: the worker sums every stored revision by prefix; a bar opens
// the key browser on its prefix.
import { h, fill } from '../dom.js';
import { spaceChart } from '../chart.js';
import { call } from '../rpc.js';
import { guarded } from '../banner.js';
import { errorBox } from './common.js';

/** Deepest cut offered (and tried by the auto-drill). */
const MAX_DEPTH = 6;
/** A prefix holding this share of the bytes is drilled into. */
const DOMINANT = 0.9;

/** Draws the space chart of db `info`; `onPick(prefix)` on a bar. */
export async function renderSpace(body, info, onPick) {
  if (!info.index) return fill(body, errorBox(info.indexError, 'index-error'));
  let depth = 1;
  let max = 20;
  const holder = h('div', { class: 'chart-holder' });
  const sel = h('select', { id: 'space-depth', dataset: { testid: 'depth' }, onchange: (e) => { depth = Number(e.target.value); max = 20; draw(); } },
    Array.from({ length: MAX_DEPTH }, (_, i) => h('option', { value: i + 1 }, `depth ${i + 1}`)));
  fill(body, h('div', { class: 'toolbar' },
    h('span', {}, 'Bytes of every stored revision (puts and tombstones) in the key bucket, by key prefix cut after the n-th "/". Enter or click a bar to browse its keys.'),
    h('label', { for: 'space-depth' }, 'Prefix depth '), sel), holder);
  const sum = (d) => guarded('Summing space', () => call('space', { dbId: info.id, depth: d }));
  let items;
  async function draw(auto = false) {
    fill(holder, h('div', { class: 'loading', role: 'status' }, 'Summing…'));
    items = await sum(depth);
    // Drill down while one prefix holds nearly everything ("/", then "/registry/" on a
    // Kubernetes db), past small keys beside it such as kube-apiserver's compact_rev_key,
    // and stop at the first depth that splits the dominant prefix.
    while (auto && items && items.length && depth < MAX_DEPTH) {
      const total = items.reduce((a, x) => a + x.bytes, 0);
      if (items[0].bytes < DOMINANT * total) break;
      const deeper = await sum(depth + 1);
      if (!deeper || !deeper.length) break;
      const changed = deeper.length !== items.length || deeper[0].prefix !== items[0].prefix;
      if (!changed) break; // nothing below: the keys end here
      depth++;
      items = deeper;
    }
    sel.value = String(depth);
    show();
  }
  function show() {
    if (!items) return;
    fill(holder, items.length
      ? spaceChart(items, { max, onPick, onMore: () => { max = items.length; show(); } })
      : h('p', { class: 'muted' }, 'No keys.'));
  }
  draw(true);
}
