// Space used by key prefix as a horizontal bar chart of buttons (no chart library): each bar
// is focusable and opens its prefix with Enter or a click; labels wrap rather than being cut;
// bytes, share, keys and revisions are written next to each bar. Small screens stack the
// label above the bar.
import { h } from './dom.js';
import { bytes, int, keyText } from './format.js';

const enc = new TextEncoder();

/** `items`: [{ prefix, bytes, keys, liveKeys, revisions }], largest first. The first `max`
 *  are drawn; the rest are summed into one row that `onMore()` expands. */
export function spaceChart(items, { max = 20, onPick, onMore } = {}) {
  const shown = items.slice(0, max);
  const rest = items.slice(max);
  const total = items.reduce((a, x) => a + x.bytes, 0) || 1;
  const top = Math.max(1, ...shown.map((x) => x.bytes));
  const row = (x, { other = false } = {}) => {
    const label = other ? x.prefix : keyText(enc.encode(x.prefix)).text;
    const pct = (100 * x.bytes) / total;
    const value = `${bytes(x.bytes)} · ${pct.toFixed(1)}% · ${int(x.keys)} key${x.keys === 1 ? '' : 's'} (${int(x.liveKeys)} live) · ${int(x.revisions)} revision${x.revisions === 1 ? '' : 's'}`;
    const inner = [
      h('span', { class: 'label mono' }, label),
      h('span', { class: 'track', 'aria-hidden': 'true' }, h('span', { class: 'fill', dataset: { w: (100 * x.bytes / top).toFixed(2) } })),
      h('span', { class: 'value' }, value),
      h('span', { class: 'sr-only' }, other ? '. Show them' : '. Browse its keys'),
    ];
    const b = h('button', {
      class: ['bar', other && 'other'], type: 'button', dataset: { prefix: other ? '' : x.prefix },
      onclick: () => (other ? onMore && onMore() : onPick && onPick(x.prefix)),
    }, inner);
    return h('li', {}, b);
  };
  const list = h('ul', { class: 'chart', 'aria-label': 'Space used by key prefix' },
    shown.map((x) => row(x)),
    rest.length ? row({
      prefix: `(${rest.length} more prefixes)`,
      bytes: rest.reduce((a, x) => a + x.bytes, 0),
      keys: rest.reduce((a, x) => a + x.keys, 0),
      liveKeys: rest.reduce((a, x) => a + x.liveKeys, 0),
      revisions: rest.reduce((a, x) => a + x.revisions, 0),
    }, { other: true }) : null);
  // Widths through the CSSOM (the page's CSP allows no inline style attributes).
  for (const f of list.querySelectorAll('.fill')) f.style.width = `${Math.max(0.5, Number(f.dataset.w))}%`;
  return list;
}
