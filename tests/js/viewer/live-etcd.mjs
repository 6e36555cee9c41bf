// A real etcd 3.4.23 (/usr/bin/etcd) for the viewer's end-to-end tests: started on free
// 127.0.0.1 ports in a data dir of the caller's, written through its JSON gateway (/v3/kv/put,
// /v3/lease/grant: etcd's own gRPC gateway, no client library), stopped with SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';

const freePort = () => new Promise((ok, fail) => {
  const s = net.createServer();
  s.once('error', fail);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

const b64 = (s) => Buffer.from(s).toString('base64');

/** Starts etcd on `dataDir` with `args` (e.g. --snapshot-count); resolves when it answers. */
export async function startEtcd(dataDir, args = []) {
  const cp = await freePort();
  const pp = await freePort();
  const ep = `http://127.0.0.1:${cp}`;
  const log = fs.openSync(path.join(path.dirname(dataDir), `${path.basename(dataDir)}.etcd.log`), 'a');
  const child = spawn('etcd', ['--name', 'm1', '--data-dir', dataDir,
    '--listen-client-urls', ep, '--advertise-client-urls', ep,
    '--listen-peer-urls', `http://127.0.0.1:${pp}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${pp}`,
    '--initial-cluster', `m1=http://127.0.0.1:${pp}`, ...args], { stdio: ['ignore', log, log] });
  const exited = new Promise((ok) => child.once('exit', ok));
  const post = async (p, body) => {
    const r = await fetch(`${ep}${p}`, { method: 'POST', body: JSON.stringify(body) });
    const j = await r.json();
    if (!r.ok || j.error) throw Object.assign(new Error(`${p}: ${j.error || j.message || r.status}`), { body: j });
    return j;
  };
  for (let i = 0; ; i++) {
    try { await post('/v3/kv/range', { key: b64('x') }); break; } catch (e) {
      if (i > 150 || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error(`etcd did not start: ${e.message}`); }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    ep,
    post,
    put: (key, value, lease) => post('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) }),
    del: (key) => post('/v3/kv/deleterange', { key: b64(key) }),
    grant: async (ttl) => (await post('/v3/lease/grant', { TTL: ttl })).ID,
    etcdctl: (...a) => {
      const r = spawnSync('etcdctl', ['--endpoints', ep, ...a], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
      if (r.status !== 0) throw new Error(`etcdctl ${a.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    async stop() { child.kill('SIGTERM'); await exited; },
  };
}

/** Runs `n` tasks `f(i)` with at most `width` in flight. */
export async function pool(n, width, f) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < n) await f(next++); }));
}
