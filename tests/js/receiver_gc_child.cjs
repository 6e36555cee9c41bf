'use strict';
// Child of wire.test.mjs, run with --expose-gc: a library user's
// `snapshotHandler(await Snapshotter.open(dir), ...)` keeps no reference to the Snapshotter.
// Uploads with a full garbage collection (and a turn for finalizers) before each must all be
// stored, and the folder's lock must stay held. Prints {"statuses":[...],"lock":bool}.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const snap = require(process.env.ETCD_SNAP_PKG);
const [dir, bodyFile, nArg] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const headers = { 'X-Server-Version': '3.4.23', 'X-Etcd-Cluster-ID': '1000' };
const lockHeld = () => fs.readdirSync(path.dirname(dir)).some((n) => n.endsWith('.etcd-snap.lock'));

function post(port) {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path: '/raft/snapshot', method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve(`${res.statusCode} ${text}`.trimEnd()));
    });
    req.on('error', reject);
    req.end(body);
  });
}

(async () => {
  fs.mkdirSync(dir, { recursive: true });
  const server = http.createServer(snap.snapshotHandler(await snap.Snapshotter.open({ node: dir }), { clusterId: 0x1000n }));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const statuses = [];
  for (let i = 0; i < Number(nArg); i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 5)); // FinalizationRegistry callbacks run here
    statuses.push(await post(server.address().port));
  }
  const lock = lockHeld();
  server.close();
  process.stdout.write(`${JSON.stringify({ statuses, lock })}\n`);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
