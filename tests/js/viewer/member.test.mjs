// The viewer on a whole etcd data dir (issue 10), end to end in headless Chromium: a real etcd
// 3.4.23 data dir (tests/fixtures/member-3.4.23) opened by the folder picker shows the doctor's
// verdict sentence first (the native `etcd-snap doctor`'s first line, byte for byte) and the
// snapshot etcd really starts from (LoadNewestAvailable). A copy with a newer `.snap` the WAL
// does not record shows that etcd's pick is not Load()'s. Run: `make test-viewer`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch } from '../browser/harness.mjs';
import { startViewerServer } from '../../../www/serve.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATA = path.join(REPO, 'tests', 'fixtures', 'member-3.4.23', 'data');
const BIN = process.env.ETCD_SNAP_BIN || path.join(REPO, 'target', 'debug', 'etcd-snap');
const ARTIFACTS = path.join(REPO, 'artifacts', 'viewer');
const LONG = 180_000;
const PICK = '0000000000000002-000000000000003f.snap';

let server, browser, tmp;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-viewer-member-'));
  const pkg = path.join(tmp, 'pkg');
  fs.cpSync(process.env.ETCD_SNAP_PKG || path.join(REPO, 'pkg'), pkg, { recursive: true });
  server = await startViewerServer({ port: 0, pkg });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function openViewer() {
  const page = await browser.context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.setDefaultTimeout(LONG);
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready=true]');
  return page;
}

/** The native CLI's verdict sentence (the first line of `etcd-snap doctor`). */
function cliVerdict(dir) {
  const r = spawnSync(BIN, ['doctor', dir], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, r.stderr);
  return r.stdout.split('\n')[0];
}

function copyData(name) {
  const dest = path.join(tmp, name, 'data');
  fs.cpSync(DATA, dest, { recursive: true });
  return dest;
}

describe('viewer: a data dir', () => {
  it('shows the doctor\'s verdict first and etcd\'s real pick', async () => {
    const dir = copyData('clean');
    const want = cliVerdict(dir);
    assert.match(want, /^etcd 3\.5 starts from snapshot 2\/63 /);
    const page = await openViewer();
    await page.setInputFiles('#folder-input', dir);
    await page.waitForSelector('[data-testid=verdict]');
    assert.equal((await page.textContent('[data-testid=verdict]')).trim(), want);
    assert.match(await page.textContent('[data-testid=real-pick]'), new RegExp(`etcd starts from ${PICK.replaceAll('.', '\\.')}`));
    assert.match(await page.textContent('#folder-summary'), new RegExp(`etcd starts from ${PICK.replaceAll('.', '\\.')}`));
    // The WAL: its one segment, the HardState, the entries after the snapshot, decoded.
    assert.match(await page.textContent('[data-testid=wal-segments]'), /0000000000000000-0000000000000000\.wal/);
    assert.match(await page.textContent('[data-testid=wal-state]'), /HardState term 2, commit 67, vote 8e2b90bc12f1b3bb; read from snapshot 2\/63; 4 entries after it, last index 67\./);
    await page.waitForFunction(() => /^1–4 of 4$/.test(document.querySelector('[data-testid=wal-page]')?.textContent || ''));
    assert.match(await page.textContent('[data-testid=wal-entries]'), /put:<key:"\/app\/k55" value:"value 55" >/);
    await page.waitForSelector('[data-testid=wal-timeline] .bar');
    // etcd 3.6's MinimalEtcdVersion, as the native doctor reports it.
    const facts = JSON.parse(spawnSync(BIN, ['doctor', dir, '-w', 'json'], { encoding: 'utf8' }).stdout).members[0].facts;
    const wv = facts.wal_minimal_version;
    assert.match(wv.version, /^3\.\d+\.0$/);
    assert.equal((await page.textContent('[data-testid=wal-version]')).trim(),
      `The WAL after the snapshot needs etcd ${wv.version} or later (${wv.by}, entry ${wv.index}): etcd 3.6’s MinimalEtcdVersion; etcdutl migrate refuses a downgrade below it`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'member-datadir.png') });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('a newer .snap the WAL does not record: etcd\'s pick, not Load()\'s', async () => {
    const dir = copyData('newer');
    const r = spawnSync(BIN, ['save', path.join(dir, 'member/snap'), '2', '80', '-'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = cliVerdict(dir);
    const page = await openViewer();
    await page.setInputFiles('#folder-input', dir);
    await page.waitForSelector('[data-testid=verdict]');
    assert.equal((await page.textContent('[data-testid=verdict]')).trim(), want);
    assert.match(await page.textContent('[data-testid=real-pick]'), new RegExp(PICK.replaceAll('.', '\\.')));
    assert.match(await page.textContent('[data-testid=doctor-warnings]'), /0000000000000002-0000000000000050\.snap/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('a folder of two members: the doctor on each and which one to recover from, as the CLI says', async () => {
    const root = path.join(tmp, 'pair', 'cluster');
    for (const m of ['a', 'b']) fs.cpSync(DATA, path.join(root, m), { recursive: true });
    // b lost the end of its WAL (a torn tail: etcd repairs it and starts at a lower commit).
    const wal = path.join(root, 'b', 'member', 'wal', '0000000000000000-0000000000000000.wal');
    fs.truncateSync(wal, Math.floor(fs.statSync(wal).size * 0.6));
    const cli = spawnSync(BIN, ['doctor', '-w', 'json', path.join(root, 'a'), path.join(root, 'b')], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const report = JSON.parse(cli.stdout);
    assert.equal(report.recommendation.member, path.join(root, 'a'));
    const page = await openViewer();
    await page.setInputFiles('#folder-input', root);
    await page.waitForSelector('[data-testid=members]');
    await page.click('[data-testid=compare-members]');
    await page.waitForSelector('[data-testid=recommendation]');
    assert.equal((await page.textContent('[data-testid=recommendation]')).trim(), 'Recover from cluster/a/member/snap.');
    const summaries = await page.$$eval('[data-testid=member-summaries] li', (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(summaries, [
      `cluster/a/member/snap: ${report.members[0].summary}`,
      `cluster/b/member/snap: ${report.members[1].summary}`,
    ]);
    assert.notEqual(report.members[0].summary, report.members[1].summary);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('folders dropped on the page: one opens as its member, two are both kept, each on its own', async () => {
    // A real drag from the OS, through the DevTools protocol: Chromium builds the directory
    // entries (webkitGetAsEntry) from the paths, as for a drop from a file manager.
    const one = copyData('drop-one');
    const two = copyData('drop-two');
    const drop = async (page, files) => {
      const cdp = await browser.context.newCDPSession(page);
      const data = { items: [], files, dragOperationsMask: 1 };
      for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, x: 300, y: 300, data });
    };
    let page = await openViewer();
    await drop(page, [one]);
    await page.waitForSelector('[data-testid=verdict]');
    assert.equal((await page.textContent('[data-testid=verdict]')).trim(), cliVerdict(one));
    assert.equal(await page.$('[data-testid=members]:not([hidden])'), null, 'one member: no member list');
    await page.close();

    page = await openViewer();
    await drop(page, [one, two]);
    await page.waitForSelector('[data-testid=members]');
    const members = await page.$$eval('[data-testid=members] li button', (bs) => bs.map((b) => b.textContent));
    // Both kept, told apart (Chromium names the second folder of the same name `data (1)`).
    assert.equal(members.length, 2, `both dropped folders kept: ${members}`);
    assert.equal(new Set(members).size, 2, `two labels: ${members}`);
    assert.ok(members.every((m) => m.endsWith('/member/snap')), `${members}`);
    await page.click('[data-testid=members] li:nth-child(2) button');
    await page.waitForSelector('[data-testid=verdict]');
    assert.equal((await page.textContent('[data-testid=verdict]')).trim(), cliVerdict(two));
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('the sample data dir is one click away', async () => {
    const page = await openViewer();
    await page.click('#open-sample-datadir');
    await page.waitForSelector('[data-testid=verdict]');
    assert.equal((await page.textContent('[data-testid=verdict]')).trim(), cliVerdict(path.join(REPO, 'www', 'sample', 'data')));
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
