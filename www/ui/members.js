// Finding the members in what was opened: a snap folder, a data dir (its member/snap), or a
// folder holding several data dirs (each `…/member/snap` is one member, shown on its own and
// never merged with another). The pickers and drag and drop hand in files with the folder
// path each was found in. A member's `member/wal` files come along as its `wal` (the doctor
// and the WAL view read them; the folder list shows only the snap folder).
import { anyEtcdName } from './kinds.js';

/** How deep the pickers look below what was opened (parent / data dir / member / snap). */
export const MAX_DEPTH = 4;
/** Folders never looked into. */
export const SKIP_DIRS = new Set(['lost+found']);

/** `found`: [{ dir: 'a/b', file }] with `dir` relative to the opened folder `root` ('' for
 *  its own files). Returns [{ label, files, wal }], one per member, in path order (`wal`: the
 *  files of the member's `wal` folder, empty when there is none). */
export async function findMembers(root, found) {
  const byDir = new Map();
  for (const { dir, file } of found) {
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir).push(file);
  }
  const label = (dir) => (dir ? `${root}/${dir}` : root);
  const dirs = [...byDir.keys()].sort();
  const members = [];
  for (const d of dirs) {
    const parts = d.split('/');
    const isMemberSnap = parts.length >= 2 && parts.at(-1) === 'snap' && parts.at(-2) === 'member';
    const isSnapOfRoot = d === 'snap' && !byDir.has('member/snap');
    if ((d === '' || isMemberSnap || isSnapOfRoot) && await anyEtcdName(byDir.get(d).map((f) => f.name))) {
      const walDir = d === '' ? null : [...parts.slice(0, -1), 'wal'].join('/');
      const wal = (walDir !== null && byDir.get(walDir)) || [];
      members.push({ label: label(d), files: byDir.get(d), wal });
    }
  }
  if (members.length) return members;
  // A lone WAL folder (member/wal opened by itself): no snap folder, the WAL alone.
  const walOnly = dirs.filter((d) => d === 'wal' || d.endsWith('/wal') || d === '');
  for (const d of walOnly) {
    const files = byDir.get(d);
    if (files.some((f) => /^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/.test(f.name))) {
      return [{ label: label(d), files: [], wal: files }];
    }
  }
  // Nothing etcd names: the folder itself, as it is (the listing says what each file is).
  const top = byDir.get('') || [];
  return [{ label: root, files: top.length ? top : found.map((x) => x.file) }];
}

/** Walks a FileSystemDirectoryHandle (the folder picker) into [{ dir, file }]. */
export async function walkHandle(dir, prefix = '', depth = 0, out = []) {
  for await (const [name, handle] of dir.entries()) {
    if (handle.kind === 'file') out.push({ dir: prefix, file: await handle.getFile() });
    else if (depth < MAX_DEPTH && !SKIP_DIRS.has(name)) await walkHandle(handle, prefix ? `${prefix}/${name}` : name, depth + 1, out);
  }
  return out;
}

async function readEntries(dir) {
  const reader = dir.createReader();
  const entries = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    entries.push(...batch);
  }
  return entries;
}

/** Walks a dropped directory entry into [{ dir, file }]. */
export async function walkEntry(dir, prefix = '', depth = 0, out = []) {
  for (const en of await readEntries(dir)) {
    if (en.isFile) out.push({ dir: prefix, file: await new Promise((ok, fail) => en.file(ok, fail)) });
    else if (en.isDirectory && depth < MAX_DEPTH && !SKIP_DIRS.has(en.name)) await walkEntry(en, prefix ? `${prefix}/${en.name}` : en.name, depth + 1, out);
  }
  return out;
}
