// Formatting of numbers, sizes, keys and values for display (always as plain text).
const nf = new Intl.NumberFormat('en-US');
export const int = (n) => (n === null || n === undefined ? '—' : nf.format(n));

/** Binary units (KiB, MiB) for sizes. */
export function bytes(n) {
  if (n === null || n === undefined) return '—';
  n = Number(n);
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export const hex = (n, width = 0) => BigInt(n).toString(16).padStart(width, '0');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A key or name as readable text: valid UTF-8 with control characters escaped as \xNN;
 *  other bytes escaped too. `binary` tells whether anything was escaped. */
export function keyText(b) {
  let str;
  try { str = utf8.decode(b); } catch { str = null; }
  if (str !== null) {
    // eslint-disable-next-line no-control-regex
    const esc = str.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return { text: esc, binary: esc !== str };
  }
  let out = '';
  for (const x of b) out += x >= 0x20 && x < 0x7f && x !== 0x5c ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`;
  return { text: out, binary: true };
}

/** The value as UTF-8 text, or null if it is not UTF-8. */
export function valueText(b) {
  try { return utf8.decode(b); } catch { return null; }
}

/** Pretty JSON, or null if the value is not JSON. */
export function prettyJson(text) {
  if (text === null) return null;
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return null;
  try { return JSON.stringify(JSON.parse(t), null, 2); } catch { return null; }
}

/** A classic hex dump (offset, 16 bytes, ASCII) of at most `max` bytes. */
export function hexDump(b, max = 64 << 10) {
  const n = Math.min(b.length, max);
  const lines = [];
  for (let off = 0; off < n; off += 16) {
    const row = b.subarray(off, Math.min(off + 16, n));
    let hx = '', asc = '';
    for (let i = 0; i < 16; i++) {
      hx += i < row.length ? row[i].toString(16).padStart(2, '0') + ' ' : '   ';
      if (i === 7) hx += ' ';
      if (i < row.length) asc += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hx} |${asc}|`);
  }
  return lines.join('\n');
}
