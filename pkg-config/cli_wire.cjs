'use strict';
// etcd-snap (npm): the rafthttp snapshot stream subcommands, same arguments and JSON as the
// native CLI (src/bin/etcd-snap/wire_cmds.rs):
//   frame OUT TERM INDEX DBFILE [--from ID] [--to ID] [--msg-term N] [--commit N] [--data FILE] [--voters ..] [--learners ..]
//   unframe IN DIR [--limit N]
//   send PEER_URL TERM INDEX DBFILE --cluster-id HEX [message flags] [--server-version V] [--peer-urls U,..]
//   serve-snapshots DIR [--listen ADDR] --cluster-id HEX [--limit N] [--envelope-budget BYTES] [--max-connections N] [--header-timeout-ms MS] [--break-lock]
// The wasm core frames, decodes, checks headers and stores; this file only moves bytes.
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');

const USAGE = `  frame OUT TERM INDEX DBFILE [--from ID] [--to ID] [--msg-term N] [--commit N] [--data FILE] [--voters IDS] [--learners IDS]
                                            write the exact POST /raft/snapshot body etcd would send
  unframe IN DIR [--limit N] [--break-lock] decode a snapshot body, store its db (SaveDBFrom); IN "-" is stdin
  send PEER_URL TERM INDEX DBFILE --cluster-id HEX [message flags]
                                            stream a snapshot to an etcd peer, as etcd's sender does
  serve-snapshots DIR [--listen ADDR] --cluster-id HEX [--limit N] [--envelope-budget BYTES] [--max-connections N] [--header-timeout-ms MS] [--break-lock]
                                            receive snapshots as an etcd peer's /raft/snapshot handler
`;

const OPTIONS = {
  from: { type: 'string' }, to: { type: 'string' }, 'msg-term': { type: 'string' }, commit: { type: 'string' },
  data: { type: 'string' }, voters: { type: 'string' }, learners: { type: 'string' },
  'cluster-id': { type: 'string' }, 'server-version': { type: 'string' }, 'peer-urls': { type: 'string' },
  listen: { type: 'string' }, limit: { type: 'string' },
  'envelope-budget': { type: 'string' }, 'max-connections': { type: 'string' }, 'header-timeout-ms': { type: 'string' },
};
const MSG_FLAGS = ['from', 'to', 'msg-term', 'commit', 'data', 'voters', 'learners'];
const DEFAULT_LIMIT = 64n << 20n;
// serve-snapshots bounds, as the native CLI's (src/bin/etcd-snap/wire_cmds.rs ServeBounds).
const DEFAULT_BUDGET = 256n << 20n;
const DEFAULT_MAX_CONNECTIONS = 256n;
const DEFAULT_HEADER_TIMEOUT_MS = 10000n;

/** `parse(cmd, values, positionals, helpers)` → a job, or null if `cmd` is not ours. */
function parse(cmd, values, positionals, h) {
  const { u64, u64List, UsageError } = h;
  const need = (n, names) => {
    if (positionals.length !== n) throw new UsageError(`${cmd}: expected ${names}`);
  };
  const allow = (ok) => {
    for (const k of Object.keys(values)) if (!ok.includes(k)) throw new UsageError(`unexpected argument '--${k}' found`);
  };
  const id = (s, what) => {
    if (s === undefined) return 0n;
    if (/^0[xX][0-9a-fA-F]+$/.test(s)) {
      const v = BigInt(s);
      if (v >= 1n << 64n) throw new UsageError(`invalid value '${s}' for '${what}': bad ID`);
      return v;
    }
    return u64(s, what);
  };
  const hex = (s, what) => {
    if (s === undefined) throw new UsageError(`the following required arguments were not provided: ${what}`);
    const t = s.trim().replace(/^0[xX]/, '');
    if (!/^[0-9a-fA-F]{1,16}$/.test(t)) throw new UsageError(`invalid value '${s}' for '${what}': invalid hex ID`);
    return BigInt(`0x${t}`);
  };
  const limit = () => (values.limit === undefined ? DEFAULT_LIMIT : u64(values.limit, '--limit <LIMIT>'));
  const msgArgs = (term, index, dbfile) => ({
    term: u64(term, '<TERM>'), index: u64(index, '<INDEX>'), dbfile,
    from: id(values.from, '--from <FROM>'), to: id(values.to, '--to <TO>'),
    msgTerm: values['msg-term'] === undefined ? undefined : u64(values['msg-term'], '--msg-term <MSG_TERM>'),
    commit: values.commit === undefined ? 0n : u64(values.commit, '--commit <COMMIT>'),
    data: values.data, voters: u64List(values.voters, '--voters'), learners: u64List(values.learners, '--learners'),
  });
  switch (cmd) {
    case 'frame': {
      allow(MSG_FLAGS); need(4, 'OUT TERM INDEX DBFILE');
      const [out, t, i, db] = positionals;
      const args = msgArgs(t, i, db);
      return () => cmdFrame(h, out, args);
    }
    case 'unframe': {
      allow(['limit', 'break-lock']); need(2, 'IN DIR');
      const l = limit();
      const lockOpts = values['break-lock'] ? { breakLock: true } : undefined;
      return () => cmdUnframe(h, positionals[0], positionals[1], l, lockOpts);
    }
    case 'send': {
      allow([...MSG_FLAGS, 'cluster-id', 'server-version', 'peer-urls']); need(4, 'PEER_URL TERM INDEX DBFILE');
      const [peer, t, i, db] = positionals;
      const args = msgArgs(t, i, db);
      const clusterId = hex(values['cluster-id'], '--cluster-id <HEX>');
      const serverVersion = values['server-version'] ?? '3.4.23';
      const peerUrls = (values['peer-urls'] ?? '').split(',').filter((u) => u !== '');
      return () => cmdSend(h, peer, args, clusterId, serverVersion, peerUrls);
    }
    case 'serve-snapshots': {
      allow(['listen', 'cluster-id', 'limit', 'envelope-budget', 'max-connections', 'header-timeout-ms', 'break-lock']); need(1, 'DIR');
      const clusterId = hex(values['cluster-id'], '--cluster-id <HEX>');
      const l = limit();
      const opt = (k, name, d) => (values[k] === undefined ? d : u64(values[k], name));
      const bounds = {
        envelopeBudget: opt('envelope-budget', '--envelope-budget <BYTES>', DEFAULT_BUDGET),
        maxConnections: opt('max-connections', '--max-connections <N>', DEFAULT_MAX_CONNECTIONS),
        headerTimeoutMs: opt('header-timeout-ms', '--header-timeout-ms <MS>', DEFAULT_HEADER_TIMEOUT_MS),
      };
      const lockOpts = values['break-lock'] ? { breakLock: true } : undefined;
      return () => cmdServe(h, positionals[0], values.listen ?? '127.0.0.1:2380', clusterId, l, bounds, lockOpts);
    }
    default:
      return null;
  }
}

function message(h, a) {
  let data = null;
  if (a.data !== undefined) {
    try { data = fs.readFileSync(a.data); } catch (e) { throw h.fsError('open', a.data, e); }
  }
  return {
    to: a.to, from: a.from, term: a.msgTerm ?? a.term, commit: a.commit,
    snapshot: { term: a.term, index: a.index, confState: { voters: a.voters, learners: a.learners }, data },
  };
}

function dbSize(h, a) {
  try { return BigInt(fs.statSync(a.dbfile).size); } catch (e) { throw h.fsError(e.code === 'ENOENT' ? 'open' : 'stat', a.dbfile, e); }
}

async function cmdFrame(h, out, a) {
  const env = h.snap.encodeSnapshotEnvelope(message(h, a));
  const size = dbSize(h, a);
  const hash = crypto.createHash('sha256');
  let fd;
  try { fd = fs.openSync(out, 'w'); } catch (e) { throw h.fsError('open', out, e); }
  try {
    fs.writeSync(fd, env); hash.update(env);
    let copied = 0n;
    for await (const c of fs.createReadStream(a.dbfile, { highWaterMark: 1 << 20 })) {
      fs.writeSync(fd, c); hash.update(c); copied += BigInt(c.length);
    }
    if (copied !== size) {
      const e = new Error(copied < size ? 'ioutil: short read' : 'ioutil: expect EOF');
      e.code = copied < size ? 'ERR_SHORT_READ' : 'ERR_EXPECT_EOF';
      throw e;
    }
  } finally { fs.closeSync(fd); }
  h.printJson({
    path: out, bytes: BigInt(env.length) + size, length_prefix: BigInt(env.length - 8), db_bytes: size,
    sha256: hash.digest('hex'),
  });
}

async function cmdUnframe(h, input, dir, limit, lockOpts) {
  const body = input === '-' ? process.stdin : (() => {
    try { fs.accessSync(input, fs.constants.R_OK); } catch (e) { throw h.fsError('open', input, e); }
    return fs.createReadStream(input, { highWaterMark: 1 << 20 });
  })();
  try { fs.mkdirSync(dir, { recursive: true }); } catch (e) { throw h.fsError('mkdir', dir, e); }
  await h.withSnapshotter(dir, lockOpts, async (s) => {
    process.stdout.write(`${await h.snap.unframeSnapshot(s, body, { limit })}\n`);
  });
}

async function cmdSend(h, peerUrl, a, clusterId, serverVersion, peerUrls) {
  let u;
  try { u = new URL(peerUrl); } catch { u = null; }
  if (!u || u.protocol !== 'http:') {
    const e = new Error(u && u.protocol === 'https:' ? `peer URL "${peerUrl}": https (TLS) peers are not supported` : `invalid peer URL "${peerUrl}": want http://host:port`);
    e.code = 'ERR_INVALID_ARGUMENT';
    throw e;
  }
  const url = `http://${u.host}/raft/snapshot`;
  const env = Buffer.from(h.snap.encodeSnapshotEnvelope(message(h, a)));
  const size = dbSize(h, a);
  const headers = h.snap.snapshotRequestHeaders({ from: a.from, clusterId, serverVersion, peerUrls });
  const start = process.hrtime.bigint();
  const { status, body } = await new Promise((resolve, reject) => {
    // A peer may answer (412, ...) and close before the upload ends: a write error that is
    // followed by a reply is the reply's outcome, as Go's client and the native sender see it.
    let failed = null;
    const fail = (e) => { if (!failed) { failed = e; setTimeout(() => reject(failed), 500); } };
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    // Late socket errors (EPIPE after an early reply) are already accounted for.
    req.on('socket', (sock) => sock.on('error', () => {}));
    req.on('error', (e) => {
      if (typeof e.code === 'string' && e.code.startsWith('ERR_') && e.message.startsWith('ioutil:')) {
        reject(e); // the db had the wrong size: the upload was aborted on purpose
        return;
      }
      const err = new Error(`Post "${url}": ${e.message}`);
      err.code = 'ERR_TRANSPORT';
      fail(err);
    });
    req.write(env);
    const rs = fs.createReadStream(a.dbfile, { highWaterMark: 1 << 20 });
    let sent = 0n;
    rs.on('data', (c) => {
      sent += BigInt(c.length);
      if (sent > size) {
        const e = new Error('ioutil: expect EOF'); e.code = 'ERR_EXPECT_EOF';
        rs.destroy(); req.destroy(e); return;
      }
      if (!req.write(c)) { rs.pause(); req.once('drain', () => rs.resume()); }
    });
    rs.on('end', () => {
      if (sent < size) {
        const e = new Error('ioutil: short read'); e.code = 'ERR_SHORT_READ';
        req.destroy(e);
      } else req.end();
    });
    rs.on('error', (e) => req.destroy(h.fsError('read', a.dbfile, e)));
  });
  h.snap.checkPostResponse(status, body, url);
  h.printJson({
    status, url, bytes: BigInt(env.length) + size, db_bytes: size,
    elapsed_ms: Number((process.hrtime.bigint() - start) / 1_000_000n),
  });
}

async function cmdServe(h, dir, listen, clusterId, limit, bounds, lockOpts) {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) { const e = new Error(`listen ${listen}: invalid address`); e.code = 'ERR_INVALID_ARGUMENT'; throw e; }
  try { fs.mkdirSync(dir, { recursive: true }); } catch (e) { throw h.fsError('mkdir', dir, e); }
  const s = await h.snap.Snapshotter.open({ node: dir }, lockOpts);
  let stop;
  const stopped = new Promise((_, reject) => { stop = reject; });
  const handler = h.snap.snapshotHandler(s, {
    clusterId, limit, envelopeBudget: bounds.envelopeBudget,
    onReply: (r) => {
      process.stdout.write(`${r.line}\n`);
      // The handler keeps the folder open; only an explicit close ends it. Then stop, rather
      // than keep listening and answering 503 as if healthy.
      if (s.closed) {
        const e = new Error(`serve-snapshots: snap folder ${dir} was closed`); e.code = 'ERR_INVALID_ARGUMENT';
        server.close(); stop(e);
      }
    },
  });
  // Node's counterparts of the native bounds: head deadline (checked at least every
  // connectionsCheckingInterval), idle keep-alive sockets closed after the same time, and at
  // most maxConnections sockets (Node closes the ones beyond it; the native server waits).
  const ms = Number(bounds.headerTimeoutMs);
  const server = http.createServer({
    // No whole-request deadline (Node's default 300 s would cut a large snapshot on a slow
    // link); a body that stalls for 60 s closes the socket instead (native: DEFAULT_IDLE_TIMEOUT).
    headersTimeout: ms, keepAliveTimeout: ms, requestTimeout: 0,
    connectionsCheckingInterval: ms > 0 ? Math.min(30_000, Math.max(50, Math.floor(ms / 2))) : 30_000,
  }, handler);
  server.setTimeout(60_000);
  server.maxConnections = Math.max(1, Number(bounds.maxConnections)); // 0 would mean unbounded
  await new Promise((resolve, reject) => {
    server.once('error', (e) => { const err = new Error(`listen ${listen}: ${e.message}`); err.code = 'ERR_IO'; reject(err); });
    server.listen(Number(m[2]), m[1].replace(/^\[(.*)\]$/, '$1'), resolve);
  });
  const addr = server.address();
  h.printJson({ listening: `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` });
  await stopped; // serves until killed, or until the folder is closed
}

module.exports = { parse, OPTIONS, USAGE };
