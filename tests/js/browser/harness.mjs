// Shared by the browser tests and the OPFS benchmark: a static file server on 127.0.0.1 (a
// free port picked at run time) over the repository root, the system Chromium through
// playwright-core (never a browser download) with a fresh profile, and the package's browser
// entry as built by `make package` into pkg/.
import { createServer } from "node:http";
import { readFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
/** The built package (`make package`); ETCD_SNAP_PKG points elsewhere. Served at /pkg/. */
export const PKG = resolve(process.env.ETCD_SNAP_PKG || join(REPO, "pkg"));
export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".map": "application/json",
  ".ts": "text/plain; charset=utf-8",
};

/** Serves the repository read-only; resolves to { url, close }. */
export async function startServer(root = REPO) {
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const [base, rel] = path.startsWith("/pkg/") ? [PKG, path.slice(4)] : [root, path];
      const file = resolve(join(base, rel));
      if (file !== base && !file.startsWith(base + sep)) throw Object.assign(new Error(), { code: "EACCES" });
      const st = await stat(file);
      if (!st.isFile()) throw Object.assign(new Error(), { code: "ENOENT" });
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] || "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === "EACCES" ? 403 : 404, { "content-type": "text/plain" });
      res.end(String(e.code || e));
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

/** The package's browser entry (a path under pkg/), from pkg/package.json. */
export async function browserEntry() {
  let meta;
  try {
    meta = JSON.parse(await readFile(join(PKG, "package.json"), "utf8"));
  } catch (e) {
    throw new Error(`pkg/package.json not found: run \`make package\` first (${e.message})`);
  }
  const pick = (v) => {
    if (typeof v === "string") return v;
    if (v && typeof v === "object") {
      for (const k of ["browser", "import", "default"]) {
        const got = pick(v[k]);
        if (got) return got;
      }
    }
    return null;
  };
  const root = meta.exports && (meta.exports["."] ?? meta.exports);
  const entry =
    (root && typeof root === "object" && pick(root.browser)) ||
    (typeof meta.browser === "string" && meta.browser) ||
    pick(root) ||
    meta.module;
  if (!entry) throw new Error("pkg/package.json names no browser entry");
  return "/pkg/" + entry.replace(/^\.\//, "");
}

/** Chromium with a fresh profile; resolves to { context, close }. The profile is deleted on close. */
export async function launch() {
  const profile = await mkdtemp(join(tmpdir(), "etcd-snap-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
      ],
      timeout: 120_000,
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens the test page with the package loaded: `window.etcdSnap` is the module namespace after
 * `init()` (called twice, to check it is idempotent). Console errors are collected in
 * `page.errors`.
 */
export async function openPage(context, server, entry, page) {
  page = page || (await context.newPage());
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.setDefaultTimeout(120_000);
  await gotoReady(page, server, entry);
  return page;
}

export async function gotoReady(page, server, entry) {
  const url = `${server.url}/tests/js/browser/pages/opfs.html?entry=${encodeURIComponent(entry)}`;
  await page.goto(url);
  await page.waitForFunction(() => window.ready === true || window.loadError, null, { timeout: 120_000 });
  const err = await page.evaluate(() => window.loadError || null);
  if (err) throw new Error(`package failed to load in the page: ${err}`);
}
