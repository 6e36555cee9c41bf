// The URL's hash: the open tab, key prefix and key, so Back steps through them and a view can
// be bookmarked or shared. Only those: the file (its name, its bytes) never enters the URL.

const enc = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });
const toHex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** The route in the hash: { tab, prefix, key (Uint8Array) } (absent parts null). */
export function readRoute() {
  const p = new URLSearchParams(location.hash.slice(1));
  let key = null;
  if (p.has('key')) key = enc.encode(p.get('key'));
  else if (p.has('keyhex') && /^([0-9a-f]{2})*$/i.test(p.get('keyhex'))) key = Uint8Array.from(p.get('keyhex').match(/../g) || [], (x) => parseInt(x, 16));
  return { tab: p.get('tab'), prefix: p.get('prefix'), key };
}

/** Writes `r` ({ tab, prefix, key }) as the hash: a new history entry unless `replace`. */
export function writeRoute(r, { replace = false } = {}) {
  const p = new URLSearchParams();
  if (r.tab) p.set('tab', r.tab);
  if (r.prefix) p.set('prefix', r.prefix);
  if (r.key) {
    let text = null;
    try { text = utf8.decode(r.key); } catch { text = null; }
    if (text !== null) p.set('key', text); else p.set('keyhex', toHex(r.key));
  }
  const hash = p.toString() ? `#${p}` : '';
  if (hash === location.hash || (!hash && !location.hash)) return;
  const url = `${location.pathname}${location.search}${hash}`;
  if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
}

let listener = null;
/** Calls `f(route)` when Back / Forward (or an edited hash: popstate fires for both) changes the hash (one listener: the open db's). */
export function onRoute(f) {
  listener = f;
}
window.addEventListener('popstate', () => { if (listener) listener(readRoute()); });
