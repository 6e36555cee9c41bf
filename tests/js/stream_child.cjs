'use strict';
// Child of stream.test.mjs: saveDbFrom of a generated stream (KIND: "iter" = async
// generator, "web" = ReadableStream) of MIB mebibytes into DIR, reporting RSS growth.
const snap = require(process.env.ETCD_SNAP_PKG);
const [dir, kind, mibArg] = process.argv.slice(2);
const mib = Number(mibArg);
const MiB = 1 << 20;
let peak = 0;
function sample() { peak = Math.max(peak, process.memoryUsage.rss()); }
function chunk(i) { const b = Buffer.allocUnsafe(MiB); b.fill(i & 255); return b; }
(async () => {
  const s = await snap.Snapshotter.open({ node: dir });
  // Warm up (instantiate, first allocations) before taking the baseline.
  await s.saveDbFrom((async function* () { yield chunk(0); })(), 1n);
  global.gc?.();
  const base = process.memoryUsage.rss();
  let source;
  if (kind === 'iter') {
    source = (async function* () { for (let i = 0; i < mib; i++) { if (i % 16 === 0) sample(); yield chunk(i); } })();
  } else {
    let i = 0;
    source = new ReadableStream({
      pull(c) { if (i % 16 === 0) sample(); if (i < mib) c.enqueue(new Uint8Array(chunk(i++))); else c.close(); },
    }, { highWaterMark: 2 });
  }
  const t0 = process.hrtime.bigint();
  const n = await s.saveDbFrom(source, 2n);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  sample();
  s.close();
  process.stdout.write(JSON.stringify({ bytes: n.toString(), baseMiB: base / MiB, peakMiB: peak / MiB, growthMiB: (peak - base) / MiB, secs }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
