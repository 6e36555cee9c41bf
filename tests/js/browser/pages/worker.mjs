// A dedicated module worker running etcd-snap over OPFS (sync access handles by default).
// Messages: { op: "run", entry, body } where body is an async function's source taking
// (etcdSnap); replies { ok: value } or { error: { message, code } }.
let mod;
self.onmessage = async ({ data }) => {
  try {
    if (!mod) {
      mod = await import(data.entry);
      const init = typeof mod.init === "function" ? mod.init : mod.default;
      await init();
    }
    const fn = new Function("etcdSnap", `return (${data.body})(etcdSnap);`);
    self.postMessage({ ok: await fn(mod) });
  } catch (e) {
    self.postMessage({ error: { message: String(e && e.message || e), code: e && e.code } });
  }
};
