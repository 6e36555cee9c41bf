// Finding the members in what was opened: a snap folder, a data dir (its member/snap), or a
// folder holding several data dirs (each `…/member/snap` is one member, shown on its own and
// never merged with another). The pickers and drag and drop hand in files with the folder
// path each was found in.
import { anyEtcdName } from './kinds.js';

/** How deep the pickers look below what was opened (parent / data dir / member / snap). */
export const MAX_DEPTH = 4;
/** Folders never looked into: a member's WAL is not the viewer's (yet). */
export const SKIP_DIRS = new Set(['wal']);

/** `found`: [{ dir: 'a/b', file }] with `dir` relative to the opened folder `root` ('' for
 *  its own files). Returns [{ label, files }], one per member, in path order. */
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
      members.push({ label: label(d), files: byDir.get(d) });
    }
  }
  if (members.length) return members;
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
