'use strict';
// Child of lock.test.mjs: opens DIR with lock MODE, saves snapshot INDEX, reports on stdout,
// then holds the folder until stdin closes (or exits at once with HOLD=0). START_AT (epoch ms):
// open no earlier than then (lines racers up).
const snap = require(process.env.ETCD_SNAP_PKG);
const [dir, mode, index] = process.argv.slice(2);
(async () => {
  const at = Number(process.env.START_AT || 0);
  while (Date.now() < at) await new Promise((r) => setTimeout(r, Math.min(at - Date.now(), 50)));
  while (Date.now() < at); // the last milliseconds: spin
  const t0 = Date.now();
  let s;
  try {
    s = await snap.Snapshotter.open({ node: dir }, { lock: mode });
  } catch (e) {
    process.stdout.write(JSON.stringify({ event: 'error', code: e.code, message: e.message }) + '\n');
    process.exit(3);
  }
  process.stdout.write(JSON.stringify({ event: 'locked', waitedMs: Date.now() - t0 }) + '\n');
  await s.saveSnap({ term: 1n, index: BigInt(index), data: new TextEncoder().encode(`from ${process.pid}`) });
  process.stdout.write(JSON.stringify({ event: 'saved' }) + '\n');
  if (process.env.HOLD === '0') { s.close(); return; }
  process.stdin.resume();
  process.stdin.on('end', () => { s.close(); process.stdout.write(JSON.stringify({ event: 'released' }) + '\n'); process.exit(0); });
})();
