// OPFS write benchmark (`make bench-browser`): etcd-snap's saveDbFrom of a generated stream
// next to hand-written JS loops doing the same writes, on the main thread (createWritable) and
// in a dedicated worker (sync access handles). Prints a table; not a test.
//   BENCH_MIB=256,1024 BENCH_RUNS=3 node browser/bench-opfs.mjs
import { startServer, launch, browserEntry, openPage } from "./harness.mjs";

const sizes = (process.env.BENCH_MIB || "256,1024").split(",").map(Number);
const runs = Number(process.env.BENCH_RUNS || 3);

const entry = await browserEntry();
const server = await startServer();
const browser = await launch();
try {
  const page = await openPage(browser.context, server, entry);
  const benchUrl = `${server.url}/tests/js/browser/pages/bench.mjs`;
  const workerUrl = `${server.url}/tests/js/browser/pages/worker.mjs`;
  await page.evaluate(async ({ benchUrl, workerUrl, entry }) => {
    window.bench = await import(benchUrl);
    const w = new Worker(workerUrl, { type: "module" });
    window.inWorker = (body) =>
      new Promise((ok, fail) => {
        w.onmessage = ({ data }) => (data.error ? fail(new Error(data.error.message)) : ok(data.ok));
        w.onerror = (e) => fail(new Error(e.message));
        w.postMessage({ entry: new URL(entry, location.href).href, body });
      });
    window.benchUrl = benchUrl;
  }, { benchUrl, workerUrl, entry });

  const cases = [
    ["main thread", "etcd-snap saveDbFrom (createWritable)", (t) => `bench.packageSave(etcdSnap, ${t}, "pkg-main", "writable")`, false],
    ["main thread", "raw JS createWritable loop", (t) => `bench.rawWritable(${t}, "raw-main")`, false],
    ["worker", "etcd-snap saveDbFrom (sync access handle)", (t) => `bench.packageSave(etcdSnap, ${t}, "pkg-worker", "sync")`, true],
    ["worker", "raw JS sync access handle loop", (t) => `bench.rawSync(${t}, "raw-worker")`, true],
  ];

  const usage = await page.evaluate(() => navigator.storage.estimate().then((e) => e.quota));
  const ua = await page.evaluate(() => navigator.userAgent);
  const version = (ua.match(/Chrome\/([\d.]+)/) || [])[1] || "unknown";
  console.log(`OPFS write benchmark: headless Chromium ${version}, ` +
    `1 MiB chunks, median of ${runs} runs, origin quota ${(usage / 2 ** 30).toFixed(1)} GiB`);
  console.log("");
  const rows = [];
  for (const mib of sizes) {
    const total = mib * 1024 * 1024;
    const medians = [];
    for (const [where, what, expr, worker] of cases) {
      const times = [];
      for (let r = 0; r < runs; r++) {
        const ms = await page.evaluate(async ({ src, worker }) => {
          if (worker) {
            return window.inWorker(`async (etcdSnap) => { const bench = await import(${JSON.stringify(window.benchUrl)}); return ${src}; }`);
          }
          const etcdSnap = window.etcdSnap, bench = window.bench;
          return eval(src);
        }, { src: expr(total), worker });
        times.push(ms);
      }
      times.sort((a, b) => a - b);
      medians.push(times[Math.floor(times.length / 2)]);
      rows.push({ mib, where, what, ms: medians.at(-1), times });
    }
  }
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  console.log(`${pad("size", 9)}${pad("where", 13)}${pad("writer", 44)}${lpad("median ms", 10)}${lpad("MiB/s", 9)}${lpad("vs raw", 9)}  runs (ms)`);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const raw = i % 2 === 0 ? rows[i + 1] : r;
    const ratio = r === raw ? "1.00" : (r.ms / raw.ms).toFixed(2);
    console.log(
      `${pad(r.mib + " MiB", 9)}${pad(r.where, 13)}${pad(r.what, 44)}${lpad(r.ms.toFixed(0), 10)}` +
      `${lpad((r.mib / (r.ms / 1000)).toFixed(0), 9)}${lpad(ratio + "x", 9)}  ${r.times.map((t) => t.toFixed(0)).join(" ")}`);
  }
  console.log("");
  console.log("vs raw: the etcd-snap time over the hand-written loop's time in the same context (lower is better).");
  if (page.errors.length) console.log("page errors:", page.errors);
} finally {
  await browser.close();
  await server.close();
}
