// The viewer used for real (issue 14), end to end in headless Chromium (playwright-core over
// /usr/bin/chromium) on data a real etcd 3.4.23 wrote in this run: a member stopped by the
// NOSPACE alarm (a small --quota-backend-bytes), Kubernetes-shaped keys (26 resource types,
// kube-apiserver's compact_rev_key), a key with 1,200 revisions, a lease with 3 keys, a 3.6 KB
// key, a 300 KiB JSON value; `etcdctl snapshot save` backups cut, flipped and gzipped; a
// folder of two data dirs. Checks the honest notes, members, sorting / filtering / export,
// the URL route, keyboard-only walks, axe-core (vendored from npm, tests/js/node_modules) on
// every view, and reflow at 390 / 700 / 1400 / 1920 px. Screenshots in artifacts/viewer/.
// Run: `make test-viewer` (or `cd tests/js && node --test viewer/use.test.mjs` after
// `make package`).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { launch } from '../browser/harness.mjs';
import { startViewerServer } from '../../../www/serve.mjs';
import { startEtcd, pool } from './live-etcd.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ARTIFACTS = path.join(REPO, 'artifacts', 'viewer');
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const LONG = 180_000;
const nf = new Intl.NumberFormat('en-US');

let server, browser, tmp;
const foreign = [];
/** What the live etcd said while it ran. */
const etcd = {};
/** Paths of the fixtures built in before(). */
const fx = {};

/** Copies a data dir's member/snap, with a small stand-in WAL (the viewer skips wal/). */
function copyDataDir(src, dest, { dropNewestSnap = false } = {}) {
  const snap = path.join(dest, 'member', 'snap');
  fs.mkdirSync(snap, { recursive: true });
  fs.mkdirSync(path.join(dest, 'member', 'wal'), { recursive: true });
  fs.writeFileSync(path.join(dest, 'member', 'wal', '0000000000000000-0000000000000000.wal'), 'not read');
  let names = fs.readdirSync(path.join(src, 'member', 'snap')).sort();
  if (dropNewestSnap) names = names.filter((n) => n !== names.filter((x) => x.endsWith('.snap')).at(-1));
  for (const n of names) fs.copyFileSync(path.join(src, 'member', 'snap', n), path.join(snap, n));
  return names;
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-viewer-use-'));
  const pkg = path.join(tmp, 'pkg');
  fs.cpSync(process.env.ETCD_SNAP_PKG || path.join(REPO, 'pkg'), pkg, { recursive: true });

  // A member that runs into its quota, with the shapes the issue found wanting.
  const data = path.join(tmp, 'etcd-data');
  const e = await startEtcd(data, ['--snapshot-count', '400', '--quota-backend-bytes', String(6 << 20)]);
  try {
    const types = Array.from({ length: 25 }, (_, i) => `type${String(i).padStart(2, '0')}`);
    await pool(types.length * 4, 8, (i) => e.put(`/registry/${types[i % 25]}/default/obj-${Math.floor(i / 25)}`,
      JSON.stringify({ kind: 'Thing', metadata: { name: `obj-${i}` }, spec: { n: i } })));
    for (let i = 0; i < 3; i++) await e.put('compact_rev_key', String(i));
    const lease = await e.grant(3600);
    etcd.lease = BigInt(lease).toString(16);
    for (let i = 1; i <= 3; i++) await e.put(`/registry/leases/kube-node-lease/node-${i}`, `{"holder":"node-${i}"}`, lease);
    // 1,200 revisions of one key, none compacted.
    for (let i = 1; i <= 1200; i++) await e.put('/registry/leases/hot', `{"renew":${i}}`);
    etcd.longKey = `/registry/long/${'k'.repeat(3600)}`;
    await e.put(etcd.longKey, 'long key value');
    etcd.bigJson = JSON.stringify({ data: 'é'.repeat(150 << 10) });
    await e.put('/registry/configmaps/default/big', etcd.bigJson);
    for (let i = 0; i < 10; i++) await e.del(`/registry/${types[i]}/default/obj-0`);
    // Fill up to the quota: etcd refuses the put that would pass it and raises NOSPACE.
    const filler = 'x'.repeat(400 << 10);
    for (let i = 0; i < 60; i++) {
      try { await e.put(`/registry/${types[i % 25]}/default/fill-${i}`, filler); } catch (err) {
        etcd.nospace = err.message;
        break;
      }
    }
    assert.match(etcd.nospace || '', /database space exceeded/, 'etcd hit its quota');
    etcd.alarms = e.etcdctl('alarm', 'list');
    assert.match(etcd.alarms, /NOSPACE/);
    // What `etcdctl get "" --prefix` returns: a count-only range over every key.
    etcd.liveKeys = Number((await e.post('/v3/kv/range', { key: 'AA==', range_end: 'AA==', count_only: true })).count);
    fx.saved = path.join(tmp, 'saved.db');
    e.etcdctl('snapshot', 'save', fx.saved);
  } finally {
    await e.stop();
  }
  fx.dataDir = path.join(tmp, 'member-a');
  fx.memberFiles = copyDataDir(data, fx.dataDir);
  fs.copyFileSync(path.join(data, 'member', 'snap', 'db'), path.join(tmp, 'member.db'));
  fx.memberDb = path.join(tmp, 'member.db');
  // Two data dirs in one folder (the second without its newest .snap).
  fx.cluster = path.join(tmp, 'cluster');
  fx.clusterA = copyDataDir(data, path.join(fx.cluster, 'a'));
  fx.clusterB = copyDataDir(data, path.join(fx.cluster, 'b'), { dropNewestSnap: true });
  // A snap folder without its db.
  fx.noDb = path.join(tmp, 'no-db', 'snap');
  fs.mkdirSync(fx.noDb, { recursive: true });
  for (const n of fx.memberFiles.filter((x) => x.endsWith('.snap'))) fs.copyFileSync(path.join(data, 'member', 'snap', n), path.join(fx.noDb, n));
  // Backups: whole, cut at a 512-byte boundary + 32 (reads as db + trailer), a flipped
  // byte, gzipped, empty.
  fx.backups = path.join(tmp, 'backups');
  fs.mkdirSync(fx.backups);
  const saved = fs.readFileSync(fx.saved);
  fs.writeFileSync(path.join(fx.backups, 'saved.db'), saved);
  fs.writeFileSync(path.join(fx.backups, 'cut.db'), saved.subarray(0, 8 * 4096 + 32));
  const flip = Buffer.from(saved);
  flip[Math.floor(flip.length / 2)] ^= 0x01;
  fs.writeFileSync(path.join(fx.backups, 'flipped.db'), flip);
  fs.writeFileSync(path.join(fx.backups, 'saved.db.gz'), zlib.gzipSync(saved));
  fs.writeFileSync(path.join(fx.backups, 'empty.db'), '');
  fx.savedDbBytes = saved.length - 32;

  server = await startViewerServer({ port: 0, pkg });
  browser = await launch();
  const origin = new URL(server.url).origin;
  await browser.context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin !== origin) { foreign.push(url); return route.abort('blockedbyclient'); }
    return route.continue();
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function openViewer({ width = 1400, height = 900 } = {}) {
  const page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.setDefaultTimeout(LONG);
  await page.setViewportSize({ width, height });
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready=true]');
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
const text = (page, sel) => page.textContent(sel);

async function openFolder(page, dir) {
  await page.setInputFiles('#folder-input', dir);
  await page.waitForSelector('#files-table:not([hidden]) tbody tr');
}

async function openDbFile(page, file) {
  await page.setInputFiles('#files-input', file);
  await page.waitForSelector('[data-testid=status-hash], [data-testid=db-error]');
}

async function fileRows(page) {
  return page.$$eval('#files-table tbody tr', (rows) => rows.map((r) => ({
    name: r.dataset.name, verdict: r.querySelector('td.verdict').textContent.trim(), title: r.getAttribute('title'),
  })));
}

/** Presses Tab until `sel` has the focus (a keyboard user's way there). */
async function tabTo(page, sel, max = 400) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), sel)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${sel}`);
}

/** axe-core on the page as it is: zero critical and zero serious violations. */
async function axe(page, view) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  assert.deepEqual(bad, [], `axe on ${view}`);
}

const keysStatus = async (page) => text(page, '[data-testid=keys-status]');
const totalOf = (s) => Number(s.split(' of ')[1].split(' ')[0].replace(/,/g, ''));

async function waitKeys(page, pred = () => true, arg = null) {
  await page.waitForFunction(() => / of [\d,]+ keys$/.test(document.querySelector('[data-testid=keys-status]')?.textContent || ''));
  await page.waitForFunction(pred, arg);
}

describe('the viewer used for real', () => {
  it('a member stopped by NOSPACE: alarm and quota first, labelled sizes and keys, honest leases and notes', async () => {
    const page = await openViewer();
    await openFolder(page, fx.dataDir);
    assert.equal(await text(page, '#folder-label'), 'member-a/member/snap');
    assert.deepEqual((await fileRows(page)).map((r) => r.name), fx.memberFiles);
    // The member db is judged at listing time (the library's listing verdict).
    assert.equal((await fileRows(page)).find((r) => r.name === 'db').verdict, 'member db');
    await page.click('#files-table tr[data-name=db]');
    await page.waitForSelector('[data-testid=status-hash]');
    // The alarm is the first thing on the overview, above the fold.
    assert.equal(await page.textContent('#db-panel h2'), 'Alarms and quota');
    assert.match(await text(page, '[data-testid=alarms]'), /NOSPACE on member [0-9a-f]+/);
    const box = await page.locator('[data-testid=alarms]').boundingBox();
    assert.ok(box.y + box.height < 900, `alarms at y=${box.y}`);
    assert.match(await text(page, '[data-testid=quota]'), /in use of etcd's default 2\.0 GiB quota/);
    // Sizes say which is which.
    const sizes = await page.$$eval('[data-testid=sizes] th', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(sizes, ['File size', 'In use (high water mark)', 'etcdctl TOTAL SIZE', 'Logical']);
    // Keys: deleted ones counted apart from live ones, which match etcdctl's count.
    assert.equal(await text(page, '[data-testid=index-live]'), nf.format(etcd.liveKeys));
    assert.ok(Number((await text(page, '[data-testid=index-keys]')).replace(/,/g, '')) > etcd.liveKeys);
    assert.match(await page.textContent('.card:has([data-testid=index-keys]) .card-label'), /incl\. deleted/);
    // "consistent" says what it covers; no trailer says what etcdctl restore will do.
    assert.equal(await text(page, '[data-testid=consistent-scope]'), 'bbolt structure only: values are not checked');
    assert.match(await text(page, '[data-testid=no-trailer]'), /etcdctl snapshot restore refuses it without --skip-hash-check/);
    // The lease: remaining TTL not persisted by 3.4 (not "0"), 3 keys attached.
    const lease = await page.$$eval('[data-testid=leases] tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(lease, [[etcd.lease, '3600 s', 'not persisted', '3']]);
    await shot(page, 'use-nospace-overview');
    await axe(page, 'db overview');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('keys: 1,200 revisions page past 1,000 from the newest, no false compaction note; sort, filter, search, export', async () => {
    const page = await openViewer();
    await openDbFile(page, fx.memberDb);
    await page.click('[role=tab][data-name=keys]');
    await waitKeys(page);
    const all = totalOf(await keysStatus(page));
    // Sorted by revisions: the hot key first.
    await page.selectOption('[data-testid=sort]', 'revisions');
    await page.waitForFunction(() => document.querySelector('[data-testid=keys] tbody td.key')?.textContent === '/registry/leases/hot');
    assert.equal(totalOf(await keysStatus(page)), all);
    await page.click('[data-testid=keys] tbody tr');
    await page.waitForSelector('[data-testid=history] li');
    assert.equal(await page.$$eval('[data-testid=history] li', (l) => l.length), 1000);
    let note = await text(page, '[data-testid=history-note]');
    assert.match(note, /^1,200 stored revisions · showing the newest 1,000/);
    assert.doesNotMatch(note, /compacted/);
    // Opens at the newest, selected, at the top of the list.
    const revs = await page.$$eval('[data-testid=history] li .mono', (s) => s.map((x) => Number(x.textContent)));
    assert.deepEqual(revs, [...revs].sort((a, b) => b - a));
    assert.equal(await page.getAttribute('[data-testid=history] li:first-child', 'class'), 'selected');
    assert.equal(await text(page, '[data-testid=value]'), JSON.stringify({ renew: 1200 }, null, 2));
    await page.click('[data-testid=older]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=history] li').length === 1200);
    note = await text(page, '[data-testid=history-note]');
    assert.equal(note, '1,200 stored revisions');
    await page.click('[data-testid=history] li:last-child');
    assert.equal(await text(page, '[data-testid=value]'), JSON.stringify({ renew: 1 }, null, 2));
    await shot(page, 'use-history-1200');

    // The key detail follows the list: another prefix clears it.
    await page.fill('[data-testid=prefix]', '/registry/type03/');
    await page.press('[data-testid=prefix]', 'Enter');
    await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent.startsWith('/registry/type03/'));
    assert.equal(await text(page, '[data-testid=key-detail]'), 'Select a key to see its revisions.');

    // Hide deleted: the 10 deleted keys go.
    await page.fill('[data-testid=prefix]', '');
    await page.press('[data-testid=prefix]', 'Enter');
    await page.selectOption('[data-testid=sort]', 'key');
    await waitKeys(page, (n) => document.querySelector('[data-testid=keys-status]').textContent.endsWith(` of ${n} keys`), nf.format(all));
    await page.check('[data-testid=hide-deleted]');
    await waitKeys(page, () => !document.querySelector('[data-testid=keys] tr.deleted') && document.querySelector('[data-testid=keys] tbody tr'));
    assert.equal(totalOf(await keysStatus(page)), etcd.liveKeys);
    // Substring search: "obj-3" anywhere in the key (not a prefix).
    await page.fill('[data-testid=contains]', 'obj-3');
    await page.press('[data-testid=contains]', 'Enter');
    await waitKeys(page, () => [...document.querySelectorAll('[data-testid=keys] tbody td.key')].every((t) => t.textContent.includes('obj-3')));
    assert.equal(totalOf(await keysStatus(page)), 25);
    // Export of the current list: CSV and etcdctl lines.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
    const rows = fs.readFileSync(await csv.path(), 'utf8').trim().split('\n');
    assert.equal(rows[0], 'key,revisions,last_revision,stored_bytes,live');
    assert.equal(rows.length, 26);
    assert.ok(rows.slice(1).every((r) => /^\/registry\/type\d\d\/default\/obj-3,1,\d+,\d+,true$/.test(r)), rows.join('\n'));
    const [ctl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-etcdctl]')]);
    const sh = await ctl.path();
    const lines = fs.readFileSync(sh, 'utf8').trim().split('\n');
    assert.equal(lines.length, 25);
    assert.match(lines[0], /^etcdctl get -- '\/registry\/type00\/default\/obj-3'$/);
    assert.equal(spawnSync('bash', ['-n', sh]).status, 0, 'the etcdctl lines parse as shell');
    // Sorted by stored bytes: the largest key first (a filler value of 400 KiB).
    await page.fill('[data-testid=contains]', '');
    await page.selectOption('[data-testid=sort]', 'bytes');
    await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent.includes('/fill-'));

    // A 3.6 KB key: its title stays short, the rest one click away.
    await page.fill('[data-testid=prefix]', '/registry/long/');
    await page.press('[data-testid=prefix]', 'Enter');
    await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent.startsWith('/registry/long/'));
    await page.click('[data-testid=keys] tbody tr');
    await page.waitForSelector('[data-testid=value]');
    const title = await page.locator('[data-testid=key-title]').boundingBox();
    assert.ok(title.height < 160, `key title ${title.height} px high`);
    assert.equal(await text(page, '[data-testid=value]'), 'long key value');
    await page.click('[data-testid=key-more]');
    assert.ok((await text(page, '[data-testid=key-title]')).includes(etcd.longKey));
    // A 300 KiB JSON value (over the 256 KiB read at first): text, then JSON when read whole.
    await page.fill('[data-testid=prefix]', '/registry/configmaps/default/big');
    await page.press('[data-testid=prefix]', 'Enter');
    await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent === '/registry/configmaps/default/big');
    await page.click('[data-testid=keys] tbody tr');
    await page.waitForSelector('[data-testid=value]');
    assert.equal(await page.getAttribute('.seg button.active', 'data-mode'), 'text');
    assert.ok((await text(page, '[data-testid=value]')).startsWith('{"data":"ééé'));
    await page.click('.value-box button.link:text-matches("Read all")');
    await page.waitForFunction(() => document.querySelector('.seg button.active')?.dataset.mode === 'json');
    assert.equal(JSON.parse(await text(page, '[data-testid=value]')).data.length, 150 << 10);
    await axe(page, 'keys with a key open');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('space: auto-drill past compact_rev_key, whole labels with revision counts, expandable rest, a bar opens its keys', async () => {
    const page = await openViewer();
    await openDbFile(page, fx.memberDb);
    await page.click('[role=tab][data-name=space]');
    await page.waitForSelector('ul.chart button.bar');
    assert.equal(await page.inputValue('[data-testid=depth]'), '3');
    const labels = await page.$$eval('ul.chart .label', (ls) => ls.map((l) => l.textContent));
    assert.ok(labels.includes('/registry/type07/'), labels.join(' | '));
    // Nothing cut: every label and value fits its box.
    assert.deepEqual(await page.$$eval('ul.chart .label, ul.chart .value', (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)), []);
    assert.match(await page.textContent('ul.chart li:first-child .value'), /revisions?$/);
    const more = await page.textContent('ul.chart button.bar.other .label');
    const n = Number(/\((\d+) more prefixes\)/.exec(more)[1]);
    await page.click('ul.chart button.bar.other');
    await page.waitForFunction((k) => document.querySelectorAll('ul.chart button.bar').length === k, 20 + n);
    // The small keys beside /registry/ (kube-apiserver's compact_rev_key) are among them.
    assert.ok((await page.$$eval('ul.chart .label', (ls) => ls.map((l) => l.textContent))).includes('compact_rev_key'));
    await shot(page, 'use-space');
    await axe(page, 'space chart');
    await page.click('ul.chart button.bar[data-prefix="/registry/type07/"]');
    await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent.startsWith('/registry/type07/'));
    assert.equal(await page.inputValue('[data-testid=prefix]'), '/registry/type07/');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('the URL holds tab, prefix and key (never the file); Back steps through them', async () => {
    const page = await openViewer();
    await openDbFile(page, path.join(fx.backups, 'saved.db'));
    assert.equal(await text(page, '#folder-kind'), 'File');
    assert.equal(await text(page, '#folder-label'), '', 'no "Folder saved.db" for one file');
    await page.click('#keep-btn');
    await page.waitForSelector('#kept-list li[data-label="saved.db"]');
    assert.match(await text(page, '#banner'), /^Kept 1 file \(/);
    await page.click('#kept-list li[data-label="saved.db"] button.danger');
    await page.click('#kept-list li[data-label="saved.db"] [data-testid=confirm-remove]');
    await page.waitForSelector('#kept-list li[data-label="saved.db"]', { state: 'detached' });
    await page.click('[role=tab][data-name=keys]');
    await waitKeys(page);
    await page.fill('[data-testid=prefix]', '/registry/leases/');
    await page.press('[data-testid=prefix]', 'Enter');
    await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent.startsWith('/registry/leases/'));
    await page.click('[data-testid=keys] tbody tr:has(td.key:text-is("/registry/leases/hot"))');
    await page.waitForSelector('[data-testid=history] li');
    const hash = new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));
    assert.deepEqual([...hash.entries()], [['tab', 'keys'], ['prefix', '/registry/leases/'], ['key', '/registry/leases/hot']]);
    assert.ok(!(await page.evaluate(() => location.href)).includes('saved'), 'no file name in the URL');
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=key-detail]')?.textContent === 'Select a key to see its revisions.');
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=prefix]')?.value === '');
    await page.goBack();
    await page.waitForSelector('[data-testid=status-hash]');
    assert.equal(await page.getAttribute('[role=tab][data-name=overview]', 'aria-selected'), 'true');
    await page.goForward();
    await page.waitForFunction(() => document.querySelector('[role=tab][data-name=keys]')?.getAttribute('aria-selected') === 'true');
    assert.equal(new URL(page.url()).origin, new URL(server.url).origin, 'Back never left the page');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('backups and listings: truncated, hash mismatch in hex with "open anyway", gzip, empty, no db — flagged at listing time', async () => {
    const page = await openViewer();
    await openFolder(page, fx.backups);
    const rows = Object.fromEntries((await fileRows(page)).map((r) => [r.name, r]));
    const cutSize = 8 * 4096 + 32;
    const truncated = `truncated: the meta page says ${fx.savedDbBytes} bytes, the file has ${cutSize}`;
    assert.equal(rows['cut.db'].title, truncated);
    assert.match(rows['cut.db'].verdict, /unreadable/);
    assert.match(rows['saved.db.gz'].title, /^a gzip-compressed file, not a bbolt db: decompress it first \(`gunzip`\)$/);
    assert.match(rows['empty.db'].title, /file is 0 bytes/);
    assert.equal(rows['saved.db'].verdict, 'db file');
    assert.equal(rows['flipped.db'].verdict, 'db file', 'the hash is checked on open, not at listing time');
    assert.match(await text(page, '#folder-summary'), /3 unreadable/);
    await shot(page, 'use-backups-listing');

    await page.click('#files-table tr[data-name="cut.db"]');
    await page.waitForSelector('[data-testid=db-error]');
    assert.match(await text(page, '[data-testid=db-error]'), new RegExp(`ERR_BAD_DB ${truncated}`));
    assert.doesNotMatch(await text(page, '[data-testid=db-error]'), /sha256|\[/);
    await page.click('#files-table tr[data-name="flipped.db"]');
    await page.waitForSelector('[data-testid=db-error]');
    assert.match(await text(page, '[data-testid=db-error]'), /ERR_DB_HASH_MISMATCH expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/);
    await axe(page, 'db error');
    await page.click('[data-testid=open-anyway]');
    await page.waitForSelector('.view-head .badge.warn:text("sha256 not checked")');
    await page.waitForSelector('[data-testid=status-hash], [data-testid=status-error]');
    await page.click('#files-table tr[data-name="saved.db.gz"]');
    await page.waitForSelector('[data-testid=db-error]');
    assert.match(await text(page, '[data-testid=db-error]'), /gzip-compressed/);
    assert.equal(await page.$('[data-testid=open-anyway]'), null, 'a gzip file does not read as bbolt');
    await page.click('#files-table tr[data-name="saved.db"]');
    await page.waitForSelector('.view-head .badge.ok:text("sha256 ok")');
    assert.equal(await page.$('[data-testid=no-trailer]'), null);

    // A snap folder without its db says so.
    await openFolder(page, fx.noDb);
    assert.match(await text(page, '[data-testid=no-db]'), /No member db in this folder/);
    await axe(page, 'snapshot view');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('a folder of two data dirs shows two members, each with its own files, never merged', async () => {
    const page = await openViewer();
    await openFolder(page, fx.cluster);
    const members = await page.$$eval('[data-testid=members] li button', (bs) => bs.map((b) => b.textContent));
    assert.deepEqual(members, ['cluster/a/member/snap', 'cluster/b/member/snap']);
    assert.equal(await text(page, '#folder-label'), 'cluster/a/member/snap');
    assert.deepEqual((await fileRows(page)).map((r) => r.name), fx.clusterA);
    await page.click('[data-testid=members] li:nth-child(2) button');
    await page.waitForFunction(() => document.querySelector('#folder-label').textContent === 'cluster/b/member/snap');
    assert.deepEqual((await fileRows(page)).map((r) => r.name), fx.clusterB);
    assert.notDeepEqual(fx.clusterA, fx.clusterB);
    // Each member's db is its own (the b member's Load pick is its own newest snap).
    const snapsB = fx.clusterB.filter((n) => n.endsWith('.snap'));
    assert.match(await text(page, '#folder-summary'), new RegExp(`etcd would load ${snapsB.at(-1)}`));
    await shot(page, 'use-members');
    await axe(page, 'two members');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('keyboard only: open the sample, the db, a key, a revision and a chart bar; tabs with arrow keys', async () => {
    const page = await openViewer();
    await tabTo(page, '#open-sample');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#files-table tbody tr[data-name=db]');
    // What the live region said while the db opened.
    await page.evaluate(() => {
      window.liveSaid = [];
      new MutationObserver(() => window.liveSaid.push(document.getElementById('live').textContent))
        .observe(document.getElementById('live'), { childList: true, characterData: true, subtree: true });
    });
    await tabTo(page, '#files-table tr[data-name=db]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=status-hash]');
    await page.waitForFunction(() => document.getElementById('live').textContent === 'Done.');
    assert.ok((await page.evaluate(() => window.liveSaid)).includes('Opening db…'), 'the live region said "Opening db…"');
    assert.equal(await page.textContent('#view h1'), 'db');
    await tabTo(page, '[role=tab][aria-selected=true]');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.name), 'keys');
    assert.equal(await page.getAttribute('[role=tab][data-name=keys]', 'aria-selected'), 'true');
    assert.equal(await page.getAttribute('[role=tab][data-name=keys]', 'aria-controls'), 'db-panel');
    await waitKeys(page);
    await tabTo(page, '[data-testid=keys] tbody tr');
    const key = await page.evaluate(() => document.activeElement.querySelector('td.key').textContent);
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=history] li');
    assert.equal(await text(page, '[data-testid=key-title]'), key);
    const n = await page.$$eval('[data-testid=history] li', (l) => l.length);
    if (n > 1) {
      await tabTo(page, '[data-testid=history] li:nth-child(2)');
      await page.keyboard.press('Enter');
      assert.equal(await page.getAttribute('[data-testid=history] li:nth-child(2)', 'class'), 'selected');
    }
    await tabTo(page, '[role=tab][aria-selected=true]');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('ul.chart button.bar');
    await tabTo(page, 'ul.chart button.bar:not(.other)');
    const prefix = await page.evaluate(() => document.activeElement.dataset.prefix);
    await page.keyboard.press('Enter');
    await page.waitForFunction((p) => document.querySelector('[data-testid=prefix]')?.value === p, prefix);
    assert.equal(await page.getAttribute('[role=tab][data-name=keys]', 'aria-selected'), 'true');
    await page.keyboard.press('End');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('axe-core finds no critical or serious violation on the other views', async () => {
    const page = await openViewer();
    await axe(page, 'welcome');
    await page.click('#open-sample');
    await page.waitForSelector('[data-testid=snap-index]');
    await axe(page, 'sample snapshot');
    // The .snap view links the member db beside it.
    await page.click('[data-testid=member-db-link] button');
    await page.waitForSelector('[data-testid=status-hash]');
    await page.click('#files-table tr[data-name$=".snap"]');
    await page.waitForSelector('[data-testid=snap-index]');
    await page.click('#files-table tr[data-name=db]');
    await page.waitForSelector('[data-testid=status-hash]');
    for (const tab of ['overview', 'keys', 'space', 'buckets']) {
      await page.click(`[role=tab][data-name=${tab}]`);
      await page.waitForSelector({ overview: '[data-testid=status-hash]', keys: '[data-testid=keys] tbody tr', space: 'ul.chart button.bar', buckets: '[data-testid=buckets]' }[tab]);
      await axe(page, `sample db ${tab}`);
    }
    await page.click('#keep-btn');
    await page.waitForSelector('#kept-list li[data-label="sample-member-snap"]');
    await axe(page, 'kept list');
    await page.click('#kept-list li[data-label="sample-member-snap"] button.danger');
    await axe(page, 'remove confirmation');
    assert.match(await text(page, '#kept-list li[data-label="sample-member-snap"]'), /Remove “sample-member-snap” \(\d+ KiB\) from this browser\?/);
    await page.click('#kept-list li[data-label="sample-member-snap"] [data-testid=confirm-remove]');
    await page.waitForSelector('#kept-list li[data-label="sample-member-snap"]', { state: 'detached' });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  for (const width of [390, 700, 1400, 1920]) {
    it(`reflows at ${width} px: no horizontal scroll on any view`, async () => {
      const page = await openViewer({ width, height: 900 });
      const noScroll = async (view) => {
        const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
        if (sw > cw) {
          const wide = await page.evaluate((w) => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 1 && e.getClientRects().length)
            .slice(0, 8).map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`), cw);
          console.log(`# too wide at ${width} (${view}): ${wide.join(' | ')}`);
        }
        assert.ok(sw <= cw, `${view} at ${width} px: page ${sw} px wide in a ${cw} px window`);
        await page.screenshot({ path: path.join(ARTIFACTS, `reflow-${width}-${view}.png`), fullPage: true });
      };
      await noScroll('welcome');
      if (width >= 1400) {
        // One file open: the sidebar is as wide as it needs, not a fixed 430 px.
        await openDbFile(page, path.join(fx.backups, 'saved.db'));
        const side = await page.locator('aside.sidebar').boundingBox();
        assert.ok(side.width < 400, `sidebar ${side.width} px`);
      }
      if (process.env.DEBUG_REFLOW) page.debugWide = true;
      await openDbFile(page, fx.memberDb);
      await noScroll('overview');
      await page.click('[role=tab][data-name=buckets]');
      await page.waitForSelector('[data-testid=buckets]');
      await noScroll('buckets');
      await page.click('[role=tab][data-name=keys]');
      await waitKeys(page);
      await page.fill('[data-testid=prefix]', '/registry/long/');
      await page.press('[data-testid=prefix]', 'Enter');
      await waitKeys(page, () => document.querySelector('[data-testid=keys] tbody td.key')?.textContent.startsWith('/registry/long/'));
      await page.click('[data-testid=keys] tbody tr');
      await page.waitForSelector('[data-testid=value]');
      await noScroll('keys-long-key');
      await page.click('.seg button[data-mode=hex]');
      // The hex dump keeps 16 bytes a line (it scrolls inside its box, not the page).
      const lines = await page.evaluate(() => document.querySelector('[data-testid=value]').getClientRects().length);
      assert.ok(lines >= 1);
      const oneRow = await page.evaluate(() => {
        const pre = document.querySelector('[data-testid=value]');
        return getComputedStyle(pre).whiteSpace;
      });
      assert.equal(oneRow, 'pre');
      await noScroll('keys-hex');
      await page.click('[role=tab][data-name=space]');
      await page.waitForSelector('ul.chart button.bar');
      await noScroll('space');
      // The tabs are all reachable (not cut off).
      for (const t of await page.$$('[role=tab]')) {
        const b = await t.boundingBox();
        assert.ok(b.x >= 0 && b.x + b.width <= width, `tab at ${b.x}+${b.width} in ${width}`);
      }
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }

  it('no request left the page\'s origin', () => {
    assert.deepEqual(foreign, []);
  });
});
