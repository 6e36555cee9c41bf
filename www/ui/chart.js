// Space used by key prefix as a horizontal SVG bar chart, drawn here (no chart library).
import { s } from './dom.js';
import { bytes, int, keyText } from './format.js';

const enc = new TextEncoder();

/** `items`: [{ prefix, bytes, keys, liveKeys, revisions }], largest first. */
export function spaceChart(items, { max = 20, onPick } = {}) {
  const shown = items.slice(0, max);
  const rest = items.slice(max);
  if (rest.length) {
    shown.push({
      prefix: `(${rest.length} more prefixes)`,
      other: true,
      bytes: rest.reduce((a, x) => a + x.bytes, 0),
      keys: rest.reduce((a, x) => a + x.keys, 0),
      liveKeys: rest.reduce((a, x) => a + x.liveKeys, 0),
      revisions: rest.reduce((a, x) => a + x.revisions, 0),
    });
  }
  const total = items.reduce((a, x) => a + x.bytes, 0) || 1;
  const top = Math.max(1, ...shown.map((x) => x.bytes));
  const rowH = 26, labelW = 300, barW = 420, valueW = 230, W = labelW + barW + valueW;
  const H = shown.length * rowH + 8;
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img',
    'aria-label': 'Space used by key prefix',
  });
  shown.forEach((x, i) => {
    const y = i * rowH + 4;
    const w = Math.max(2, (x.bytes / top) * barW);
    const label = x.other ? x.prefix : keyText(enc.encode(x.prefix)).text;
    const g = s('g', { class: x.other ? 'bar other' : 'bar', transform: `translate(0 ${y})` },
      s('title', {}, `${label}\n${int(x.bytes)} bytes, ${int(x.keys)} keys (${int(x.liveKeys)} live), ${int(x.revisions)} revisions`),
      s('text', { x: labelW - 8, y: rowH / 2 + 1, class: 'label', 'text-anchor': 'end', 'dominant-baseline': 'middle' },
        label.length > 40 ? label.slice(0, 39) + '…' : label),
      s('rect', { x: labelW, y: 3, width: w, height: rowH - 8, rx: 3 }),
      s('text', { x: labelW + w + 8, y: rowH / 2 + 1, class: 'value', 'dominant-baseline': 'middle' },
        `${bytes(x.bytes)} · ${(100 * x.bytes / total).toFixed(1)}% · ${int(x.keys)} key${x.keys === 1 ? '' : 's'}`),
    );
    if (onPick && !x.other) {
      g.classList.add('pick');
      g.addEventListener('click', () => onPick(x.prefix));
    }
    svg.append(g);
  });
  return svg;
}
