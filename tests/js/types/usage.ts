// Type-checked by tests/js/package.test.mjs with `tsc --strict` against the packed package.
import init, {
  Snapshotter, decodeSnap, encodeSnap, crc32c, snapName, dbName,
  type Snapshot, type SnapshotInput, type StorageBackend, type FileInfo, type OpenOptions,
  type EtcdSnapError, type AtomicWriter, type WalSnapshot,
  doctor, readWal, type DoctorReport, type DoctorMember, type WalDumpResult,
  defragDb, type DefragReport,
} from 'etcd-snap';

async function main(): Promise<void> {
  await init();
  const opts: OpenOptions = { lock: 'wait', maxBroken: null, cleanTmpOnOpen: true };
  const s: Snapshotter = await Snapshotter.open('/tmp/snap', opts);
  const snap: Snapshot = await s.load();
  const term: bigint = snap.term;
  const data: Uint8Array | null = snap.data;
  const voters: bigint[] = snap.confState.voters;
  const input: SnapshotInput = { term: 1n, index: 2n, confState: { voters: [1n] }, data: null };
  await s.saveSnap(input);
  const wal: WalSnapshot[] = [{ term: 1n, index: 2n }];
  await s.loadNewestAvailable(wal);
  const n: bigint = await s.saveDbFrom(new ReadableStream<Uint8Array>(), 5n);
  const p: string = await s.dbFilePath(5n);
  await s.releaseSnapDbs(snap);
  const files: FileInfo[] = await s.list();
  const kinds: string[] = files.map((f) => f.kind);
  s.close();
  const bytes: Uint8Array = encodeSnap(input);
  const back: Snapshot = decodeSnap(bytes);
  const extra: number | undefined = back.unknownFields?.confState;
  void extra;
  const c: number = crc32c(bytes);
  const names: string = snapName(1n, 2n) + dbName(3n);
  try { decodeSnap(new Uint8Array()); } catch (e) { const code: string = (e as EtcdSnapError).code; void code; }
  const backend: StorageBackend = {
    list: async () => [],
    stat: async () => ({ size: 0, isDir: false }),
    read: async () => new Uint8Array(),
    openRead: async () => new ReadableStream<Uint8Array>(),
    createAtomic: async (): Promise<AtomicWriter> => ({ write: async () => {}, commit: async () => {}, abort: () => {} }),
    rename: async () => {},
    remove: async () => {},
    syncDir: () => {},
    lock: async () => ({ release: () => {} }),
  };
  const m = await Snapshotter.open({ backend });
  const o = await Snapshotter.open({ opfs: 'a/b' });
  const mem = await Snapshotter.open({ memory: 'x' });
  const report: DoctorReport = await doctor('/var/lib/etcd', { etcd: '3.4' });
  const first: DoctorMember = report.members[0];
  const sentence: string = first.summary;
  const starts = first.verdict.verdict === 'starts' ? first.verdict.entriesToReplay : null;
  const both = await doctor([{ snap: { backend }, wal: { opfs: 'data/member/wal' } }, '/d2']);
  const pick: string | null | undefined = both.recommendation?.member;
  const dump: WalDumpResult = await readWal({ wal: { memory: 'w' } }, { startIndex: 1n, entryTypes: 'IRRPut', offset: 0, limit: 50 });
  const line: string = dump.list[0].text;
  const defragged: DefragReport = await defragDb(new Uint8Array(0), { node: '/tmp' }, 'db.defrag', { skipHashCheck: true });
  const shrunk: number = defragged.before.totalSize - defragged.after.totalSize;
  const plain: DefragReport = await defragDb({ size: 0, read: () => new Uint8Array(0) }, '/tmp', 'x');
  void [term, data, voters, n, p, kinds, back, c, names, m, o, mem, sentence, starts, pick, line, shrunk, plain];
}
void main;
