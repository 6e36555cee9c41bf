// Benchmark bodies, run in the page (main thread) or in a worker via worker.mjs. Each writes
// `total` bytes of 1 MiB chunks into OPFS folder `bench/<case>` and returns milliseconds.
// Every chunk is a fresh copy of one pre-filled buffer, for the package and the raw loops alike.

export function chunkSource(total) {
  const base = new Uint8Array(1 << 20);
  for (let k = 0; k < base.length; k++) base[k] = (k * 2654435761) >>> 24;
  let i = 0;
  return new ReadableStream({
    pull(c) {
      const n = Math.min(base.length, total - i);
      if (n === 0) return c.close();
      i += n;
      c.enqueue(n === base.length ? base.slice() : base.slice(0, n));
    },
  });
}

export async function benchDir(name) {
  const root = await navigator.storage.getDirectory();
  const bench = await root.getDirectoryHandle("bench", { create: true });
  try {
    await bench.removeEntry(name, { recursive: true });
  } catch {}
  return bench.getDirectoryHandle(name, { create: true });
}

export async function clearDir(name) {
  const bench = await (await navigator.storage.getDirectory()).getDirectoryHandle("bench");
  await bench.removeEntry(name, { recursive: true });
}

/** etcd-snap saveDbFrom (createWritable on the main thread, sync handles in a worker). */
export async function packageSave(etcdSnap, total, name, opfsMode) {
  await benchDir(name);
  const s = await etcdSnap.Snapshotter.open({ opfs: `bench/${name}`, opfsMode });
  const t0 = performance.now();
  const n = await s.saveDbFrom(chunkSource(total), 1n);
  const ms = performance.now() - t0;
  s.close();
  if (Number(n) !== total) throw new Error(`saveDbFrom wrote ${n} of ${total}`);
  await clearDir(name);
  return ms;
}

/** The same stream, written by hand: createWritable on a temp name, close, move. */
export async function rawWritable(total, name) {
  const dir = await benchDir(name);
  const t0 = performance.now();
  const h = await dir.getFileHandle("tmp1", { create: true });
  const w = await h.createWritable({ keepExistingData: false });
  const r = chunkSource(total).getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    await w.write(value);
  }
  await w.close();
  await h.move(dir, "0000000000000001.snap.db");
  const ms = performance.now() - t0;
  await clearDir(name);
  return ms;
}

/** The same stream through a sync access handle (workers only): write, flush, close, move. */
export async function rawSync(total, name) {
  const dir = await benchDir(name);
  const t0 = performance.now();
  const h = await dir.getFileHandle("tmp1", { create: true });
  const a = await h.createSyncAccessHandle();
  const r = chunkSource(total).getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    at += a.write(value, { at });
  }
  a.flush();
  a.close();
  await h.move(dir, "0000000000000001.snap.db");
  const ms = performance.now() - t0;
  await clearDir(name);
  if (at !== total) throw new Error(`wrote ${at} of ${total}`);
  return ms;
}
