// Export of the key list the browser shows (every key of it, not only the page): CSV, or one
// `etcdctl get` line per key with the key quoted for a POSIX shell. Saved as a download made
// in this tab (a blob: URL); nothing is sent anywhere.
import { call } from './rpc.js';
import { guarded } from './banner.js';
import { keyText } from './format.js';

/** Keys asked for per request while exporting. */
const BATCH = 10000;

const csvCell = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** A key as one shell word: '...' when it is printable UTF-8 without control bytes, else
 *  bash's $'...' with every other byte as \xNN. */
export function shellWord(key) {
  const kt = keyText(key);
  if (!kt.binary) return `'${kt.text.replace(/'/g, `'\\''`)}'`;
  let out = '';
  for (const b of key) out += b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `$'${out}'`;
}

/** Every key of `query` (the list's prefix, filters and order) of db `info`. */
async function allKeys(info, query) {
  const out = [];
  let after = null;
  for (;;) {
    const byKey = query.sort === 'key';
    const res = await call('keys', { dbId: info.id, ...query, limit: BATCH, after: byKey ? after : undefined, offset: byKey ? undefined : out.length, count: !byKey });
    out.push(...res.keys);
    if (byKey ? !res.next : out.length >= res.total || !res.keys.length) return out;
    after = res.next;
  }
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Exports the list `query` of db `info` as `format` ('csv' or 'etcdctl'). */
export async function exportKeys(info, query, format) {
  const keys = await guarded('Exporting keys', () => allKeys(info, query));
  if (!keys) return;
  const base = `${info.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-keys`;
  if (format === 'csv') {
    const lines = ['key,revisions,last_revision,stored_bytes,live'];
    for (const k of keys) lines.push([csvCell(keyText(k.key).text), k.revisions, k.lastRevision, k.bytes, k.live].join(','));
    return download(`${base}.csv`, `${lines.join('\n')}\n`, 'text/csv');
  }
  const lines = keys.filter((k) => k.live).map((k) => `etcdctl get -- ${shellWord(k.key)}`);
  download(`${base}.sh`, `${lines.join('\n')}\n`, 'text/x-shellscript');
}
