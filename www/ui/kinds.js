// What the viewer does with each kind of name. The kinds are etcd's, from the library
// (`Snapshotter.list()`'s `kind`, or the worker's `kinds` op); only the viewer's choices are here.
import { call } from './rpc.js';

/** Kinds that mark a folder as an etcd snap folder (else the pickers look in snap/, member/). */
const ETCD_KINDS = new Set(['snap', 'db', 'live-db', 'broken']);
/** Kinds the viewer opens as a bbolt db: received and member dbs, and any other file (an
 *  `etcdctl snapshot save` file has no fixed name). */
const DB_KINDS = new Set(['db', 'live-db', 'other']);
/** Leftovers etcd ignores or removes. */
const LEFTOVER_KINDS = new Set(['broken', 'tmp', 'db.tmp']);

export const isDbKind = (kind) => DB_KINDS.has(kind);
export const isLeftoverKind = (kind) => LEFTOVER_KINDS.has(kind);

/** Whether any of `names` is a name etcd keeps in a snap folder. */
export async function anyEtcdName(names) {
  if (!names.length) return false;
  const kinds = await call('kinds', { names });
  return kinds.some((k) => ETCD_KINDS.has(k));
}
