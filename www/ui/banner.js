// The banner under the top bar: errors and notices, and `guarded` to run work that reports
// its failure there.
import { h, fill } from './dom.js';
import { setBusy } from './state.js';

const banner = () => document.getElementById('banner');

function show(kind, ...children) {
  const b = banner();
  fill(b, ...children, h('button', { class: 'link', onclick: () => { b.hidden = true; } }, 'Dismiss'));
  b.className = `banner ${kind}`;
  b.hidden = false;
}

export function showError(msg, code) {
  show('error', h('strong', {}, 'Error'), code ? h('span', { class: 'mono code' }, code) : null, h('span', { class: 'msg' }, msg));
}

export function showInfo(msg) {
  show('info', h('span', { class: 'msg' }, msg));
}

export function clearBanner() { banner().hidden = true; }

/** Runs `f` as busy work `what`; an error goes to the banner and gives `undefined`. */
export async function guarded(what, f) {
  setBusy(true, what);
  try {
    return await f();
  } catch (e) {
    showError(e.message, e.code);
    return undefined;
  } finally {
    setBusy(false);
  }
}
