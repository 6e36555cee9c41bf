// Type-checked by tests/js/viewer/viewer.test.mjs (tsc --strict against pkg/index.d.ts): the
// inspect API the viewer uses is fully typed.
import init, { InspectDb, Snapshotter, v2StoreInfo, opfsWriteFile, opfsRemoveFile, loadPick, nameKind, etcdctlStatusTable, etcdctlBytes, dbName, type FileInfo, type LoadPickEntry, type DbStatus, type DbKeyPage, type DbKeyRevision, type DbPrefixSpace, type V2StoreInfo, type DbClusterInfo, type DbLayout, type DbIndex, type DbBucket } from 'etcd-snap';
async function main(blob: Blob, bytes: Uint8Array): Promise<void> {
  await init();
  const db: InspectDb = InspectDb.open(blob, { verifyTrailer: true });
  const db2 = InspectDb.open({ size: 10, read: (o: number, l: number) => new Uint8Array(l) });
  const st: DbStatus = db.status();
  const h: number = st.hash;
  const L: DbLayout = db.layout();
  const b: DbBucket[] = db.buckets();
  const c: DbClusterInfo = db.clusterInfo();
  const i: DbIndex = db.index();
  const page: DbKeyPage = db.keys({ prefix: '/registry/', after: null, limit: 100, count: true });
  const next: Uint8Array | null = page.next;
  const hist: DbKeyRevision[] = db.history(page.keys[0].key);
  const sp: DbPrefixSpace[] = db.spaceByPrefix('/', 2);
  const v: V2StoreInfo = v2StoreInfo(bytes);
  const n: number = await opfsWriteFile({ opfs: 'x' }, 'a', bytes);
  const ok: boolean = await opfsRemoveFile({ opfs: 'x' }, 'a');
  const problems: string[] = db.check();
  db.free(); db2.free();
  void [h, L, b, c, i, next, hist, sp, v, n, ok, problems];
}
void main;

/** The etcd rules the viewer takes from the library (src/wasm/viewer.rs). */
async function viewerRules(s: Snapshotter, st: DbStatus): Promise<void> {
  const list: FileInfo[] = await s.list();
  const pick: string | null = loadPick(list);
  const entries: LoadPickEntry[] = [{ name: 'a.snap', verdict: 'ok' }, { name: 'db', verdict: null, code: null }];
  const pick2: string | null = loadPick(entries);
  const kind: FileInfo['kind'] = nameKind('db');
  const table: string = etcdctlStatusTable(st);
  const size: string = etcdctlBytes(st.totalSize);
  const db: string = dbName(51n);
  // @ts-expect-error nameKind returns the kind union, not any string
  const wrong: 'nope' = nameKind('x');
  void [pick, pick2, kind, table, size, db, wrong];
}
void viewerRules;

function notAny(db: InspectDb): void {
  // @ts-expect-error status() is typed (DbStatus), not any
  const bad: string = db.status().hash;
  void bad;
}
void notAny;
