// The npm package's browser entry over OPFS in headless Chromium (playwright-core, system
// Chromium): save and load across a reload, two tabs on one folder, a closed tab's lock, a
// dedicated worker (sync access handles), and a streamed saveDbFrom.
// Run: `make test-e2e` (builds pkg/ first), or `cd tests/js && node --test browser/`.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launch, browserEntry, openPage } from "./harness.mjs";

let server, browser, entry;

before(async () => {
  entry = await browserEntry();
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Lists an OPFS folder straight through the browser API (not through the package). */
async function opfsNames(page, path) {
  return page.evaluate(async (path) => {
    let dir = await navigator.storage.getDirectory();
    for (const p of path.split("/")) dir = await dir.getDirectoryHandle(p);
    const out = [];
    for await (const [name, h] of dir.entries()) {
      out.push(h.kind === "file" ? `${name}:${(await h.getFile()).size}` : `${name}/`);
    }
    return out.sort();
  }, path);
}

describe("OPFS through the browser entry", () => {
  it("saves, loads, survives a reload, loads again", async () => {
    const page = await openPage(browser.context, server, entry);
    const first = await page.evaluate(async () => {
      const { Snapshotter } = window.etcdSnap;
      const s = await Snapshotter.open({ opfs: "e2e/reload" });
      await s.saveSnap({
        term: 2n,
        index: 7n,
        confState: { voters: [1n, 2n, 3n] },
        data: new TextEncoder().encode("hello opfs"),
      });
      const snap = await s.load();
      s.close();
      // Reopening at once in the same page must not trip over the lock just released.
      (await Snapshotter.open({ opfs: "e2e/reload" })).close();
      return { term: String(snap.term), index: String(snap.index), data: new TextDecoder().decode(snap.data) };
    });
    assert.deepEqual(first, { term: "2", index: "7", data: "hello opfs" });
    assert.deepEqual(await opfsNames(page, "e2e/reload"), ["0000000000000002-0000000000000007.snap:" + (await snapSize(page))]);

    await page.reload();
    await page.waitForFunction(() => window.ready === true || window.loadError);
    const again = await page.evaluate(async () => {
      const { Snapshotter } = window.etcdSnap;
      const s = await Snapshotter.open({ opfs: "e2e/reload" });
      const snap = await s.load();
      const list = await s.list();
      s.close();
      return {
        index: String(snap.index),
        voters: snap.confState.voters.map(String),
        data: new TextDecoder().decode(snap.data),
        names: list.map((f) => f.name),
      };
    });
    assert.deepEqual(again, {
      index: "7",
      voters: ["1", "2", "3"],
      data: "hello opfs",
      names: ["0000000000000002-0000000000000007.snap"],
    });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it("two tabs on one folder: the second gets ERR_LOCKED, or waits by option; nothing lost", async () => {
    const a = await openPage(browser.context, server, entry);
    const b = await openPage(browser.context, server, entry);
    await a.evaluate(async () => {
      const { Snapshotter } = window.etcdSnap;
      window.s = await Snapshotter.open({ opfs: "e2e/two-tabs" });
      await window.s.saveSnap({ term: 1n, index: 1n, data: new Uint8Array([1]) });
    });
    const refused = await b.evaluate(async () => {
      const { Snapshotter } = window.etcdSnap;
      try {
        await Snapshotter.open({ opfs: "e2e/two-tabs" });
        return "opened";
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    });
    assert.equal(refused.code, "ERR_LOCKED", JSON.stringify(refused));
    assert.match(refused.message, /e2e\/two-tabs/);

    // A waiting open in tab B stays pending while A writes, and completes when A closes.
    await b.evaluate(() => {
      const { Snapshotter } = window.etcdSnap;
      window.waited = Snapshotter.open({ opfs: "e2e/two-tabs" }, { lock: "wait" }).then((s) => {
        window.opened = true;
        return s;
      });
    });
    await a.evaluate(async () => {
      await window.s.saveSnap({ term: 1n, index: 2n, data: new Uint8Array([2]) });
      await new Promise((r) => setTimeout(r, 500));
    });
    assert.equal(await b.evaluate(() => window.opened === true), false, "B opened while A held the folder");
    await a.evaluate(() => window.s.close());
    const seen = await b.evaluate(async () => {
      const s = await window.waited;
      const before = String((await s.load()).index);
      await s.saveSnap({ term: 1n, index: 3n, data: new Uint8Array([3]) });
      const names = (await s.list()).map((f) => f.name);
      s.close();
      return { before, names };
    });
    assert.deepEqual(seen, {
      before: "2",
      names: [
        "0000000000000001-0000000000000001.snap",
        "0000000000000001-0000000000000002.snap",
        "0000000000000001-0000000000000003.snap",
      ],
    });
    assert.deepEqual([...a.errors, ...b.errors], []);
    await a.close();
    await b.close();
  });

  it("a closed tab's lock is released by the browser", async () => {
    const a = await openPage(browser.context, server, entry);
    await a.evaluate(async () => {
      window.s = await window.etcdSnap.Snapshotter.open({ opfs: "e2e/closed-tab" });
    });
    const b = await openPage(browser.context, server, entry);
    const code = await b.evaluate(() =>
      window.etcdSnap.Snapshotter.open({ opfs: "e2e/closed-tab" }).then(() => "opened", (e) => e.code));
    assert.equal(code, "ERR_LOCKED");
    await a.close(); // no s.close(): the tab just goes away
    const opened = await b.evaluate(async () => {
      const s = await window.etcdSnap.Snapshotter.open({ opfs: "e2e/closed-tab" }, { lock: "wait" });
      s.close();
      return true;
    });
    assert.equal(opened, true);
    await b.close();
  });

  it("a dedicated worker writes with sync access handles; the page reads it back", async () => {
    const page = await openPage(browser.context, server, entry);
    const workerUrl = `${server.url}/tests/js/browser/pages/worker.mjs`;
    const fromWorker = await page.evaluate(async ({ workerUrl, entry }) => {
      const w = new Worker(workerUrl, { type: "module" });
      const run = (body) =>
        new Promise((ok, fail) => {
          w.onmessage = ({ data }) => (data.error ? fail(Object.assign(new Error(data.error.message), data.error)) : ok(data.ok));
          w.onerror = (e) => fail(new Error(e.message));
          w.postMessage({ entry: new URL(entry, location.href).href, body: body.toString() });
        });
      const out = await run(async (etcdSnap) => {
        const hasSync = typeof FileSystemSyncAccessHandle === "function";
        const s = await etcdSnap.Snapshotter.open({ opfs: "e2e/worker", opfsMode: "sync" });
        await s.saveSnap({ term: 3n, index: 9n, data: new TextEncoder().encode("from a worker") });
        let i = 0;
        const total = 8 * 1024 * 1024 + 5;
        const stream = new ReadableStream({
          pull(c) {
            const n = Math.min(1 << 20, total - i);
            if (n === 0) return c.close();
            const chunk = new Uint8Array(n);
            for (let k = 0; k < n; k++) chunk[k] = (i + k) % 251;
            i += n;
            c.enqueue(chunk);
          },
        });
        const n = await s.saveDbFrom(stream, 9n);
        s.close();
        return { hasSync, n: String(n) };
      });
      w.terminate();
      return out;
    }, { workerUrl, entry });
    assert.deepEqual(fromWorker, { hasSync: true, n: String(8 * 1024 * 1024 + 5) });
    const back = await page.evaluate(async () => {
      const s = await window.etcdSnap.Snapshotter.open({ opfs: "e2e/worker" }, { lock: "wait" });
      const snap = await s.load();
      const path = await s.dbFilePath(9n);
      s.close();
      return { data: new TextDecoder().decode(snap.data), path };
    });
    assert.deepEqual(back, { data: "from a worker", path: "/e2e/worker/0000000000000009.snap.db" });
    const names = await opfsNames(page, "e2e/worker");
    assert.deepEqual(names, [
      "0000000000000003-0000000000000009.snap:" + names[0].split(":")[1],
      "0000000000000009.snap.db:" + (8 * 1024 * 1024 + 5),
    ]);
    // The bytes, checked in the page.
    const ok = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle("e2e");
      const f = await (await (await dir.getDirectoryHandle("worker")).getFileHandle("0000000000000009.snap.db")).getFile();
      const b = new Uint8Array(await f.arrayBuffer());
      for (let k = 0; k < b.length; k++) if (b[k] !== k % 251) return k;
      return -1;
    });
    assert.equal(ok, -1, `byte ${ok} differs`);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it("a page and its worker share the folder lock", async () => {
    const page = await openPage(browser.context, server, entry);
    const workerUrl = `${server.url}/tests/js/browser/pages/worker.mjs`;
    const codes = await page.evaluate(async ({ workerUrl, entry }) => {
      const w = new Worker(workerUrl, { type: "module" });
      const run = (body) =>
        new Promise((ok, fail) => {
          w.onmessage = ({ data }) => (data.error ? fail(new Error(data.error.message)) : ok(data.ok));
          w.postMessage({ entry: new URL(entry, location.href).href, body: body.toString() });
        });
      const tryOpen = (lock) => `async (etcdSnap) => {
        try {
          const s = await etcdSnap.Snapshotter.open({ opfs: "e2e/shared-lock" }, { lock: "${lock}" });
          self.held = s;
          return "opened";
        } catch (e) {
          return e.code;
        }
      }`;
      const s = await window.etcdSnap.Snapshotter.open({ opfs: "e2e/shared-lock" });
      const whilePageHolds = await run(tryOpen("fail"));
      s.close();
      // The release reaches the browser asynchronously: wait for it rather than race it.
      const afterPageClosed = await run(tryOpen("wait"));
      const pageWhileWorkerHolds = await window.etcdSnap.Snapshotter.open({ opfs: "e2e/shared-lock" })
        .then(() => "opened", (e) => e.code);
      w.terminate();
      return { whilePageHolds, afterPageClosed, pageWhileWorkerHolds };
    }, { workerUrl, entry });
    assert.deepEqual(codes, { whilePageHolds: "ERR_LOCKED", afterPageClosed: "opened", pageWhileWorkerHolds: "ERR_LOCKED" });
    await page.close();
  });

  it("saveDbFrom streams 64 MiB into OPFS from the main thread; a failing stream leaves nothing", async () => {
    const page = await openPage(browser.context, server, entry);
    const out = await page.evaluate(async () => {
      const { Snapshotter } = window.etcdSnap;
      const s = await Snapshotter.open({ opfs: "e2e/db" });
      const make = (total, failAt) => {
        let i = 0;
        return new ReadableStream({
          pull(c) {
            if (failAt !== undefined && i >= failAt) return c.error(new Error("peer went away"));
            const n = Math.min(1 << 20, total - i);
            if (n === 0) return c.close();
            const chunk = new Uint8Array(n);
            for (let k = 0; k < n; k += 4096) chunk[k] = ((i + k) >> 12) & 0xff;
            i += n;
            c.enqueue(chunk);
          },
        });
      };
      const n = await s.saveDbFrom(make(64 << 20), 5n);
      let failed;
      try {
        await s.saveDbFrom(make(64 << 20, 3 << 20), 6n);
      } catch (e) {
        failed = e.message;
      }
      const names = (await s.list()).map((f) => `${f.name}:${f.size}`);
      s.close();
      return { n: String(n), failed, names };
    });
    assert.equal(out.n, String(64 << 20));
    assert.match(out.failed || "", /peer went away/);
    assert.deepEqual(out.names, [`0000000000000005.snap.db:${64 << 20}`]);
    await page.close();
  });

  it("a full quota gives ERR_NO_SPACE and leaves nothing, on the main thread and in a worker", async () => {
    const page = await openPage(browser.context, server, entry);
    // A real QuotaExceededError: the origin's quota cut to 4 MiB above its current usage
    // through the DevTools protocol.
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.url, quotaSize: usage + 4 * 1024 * 1024 });
    try {
      const body = async (etcdSnap, opfs, opfsMode) => {
        const s = await etcdSnap.Snapshotter.open({ opfs, opfsMode });
        await s.saveSnap({ term: 1n, index: 1n, data: new Uint8Array(1000) });
        const total = 16 << 20;
        let i = 0;
        const stream = new ReadableStream({
          pull(c) {
            const n = Math.min(1 << 20, total - i);
            if (n === 0) return c.close();
            i += n;
            c.enqueue(new Uint8Array(n).fill(7));
          },
        });
        let err = null;
        try {
          await s.saveDbFrom(stream, 3n);
        } catch (e) {
          err = { code: e.code, message: e.message };
        }
        const names = (await s.list()).map((f) => f.name);
        const snap = await s.load();
        s.close();
        return { err, names, index: String(snap.index) };
      };
      const main = await page.evaluate(
        async (src) => (0, eval)(`(${src})`)(window.etcdSnap, "e2e/quota-main", "writable"),
        body.toString());
      const worker = await page.evaluate(async ({ src, entry }) => {
        const w = new Worker("/tests/js/browser/pages/worker.mjs", { type: "module" });
        const out = await new Promise((ok, fail) => {
          w.onmessage = ({ data }) => (data.error ? fail(new Error(data.error.message)) : ok(data.ok));
          w.postMessage({
            entry: new URL(entry, location.href).href,
            body: `(etcdSnap) => (${src})(etcdSnap, "e2e/quota-worker", "sync")`,
          });
        });
        w.terminate();
        return out;
      }, { src: body.toString(), entry });
      for (const [where, r, path] of [["main thread", main, "quota-main"], ["worker", worker, "quota-worker"]]) {
        assert.equal(r.err?.code, "ERR_NO_SPACE", `${where}: ${JSON.stringify(r)}`);
        assert.match(r.err.message, new RegExp(`^write /e2e/${path}/0000000000000003\\.snap\\.db: no space left on device \\(QuotaExceededError`));
        assert.deepEqual(r.names, ["0000000000000001-0000000000000001.snap"], where);
        assert.equal(r.index, "1", where);
      }
    } finally {
      await cdp.send("Storage.overrideQuotaForOrigin", { origin: server.url });
    }
    await page.close();
  });
});

async function snapSize(page) {
  return page.evaluate(async () => {
    const d = await (await (await navigator.storage.getDirectory()).getDirectoryHandle("e2e")).getDirectoryHandle("reload");
    return (await (await d.getFileHandle("0000000000000002-0000000000000007.snap")).getFile()).size;
  });
}
