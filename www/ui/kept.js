// Kept folders: copies of opened folders in this browser's private storage (OPFS), written
// and removed by the worker through the library's OPFS backend.
import { h, fill, plural } from './dom.js';
import { bytes } from './format.js';
import { call } from './rpc.js';
import { state } from './state.js';
import { showInfo, clearBanner, guarded } from './banner.js';
import { showFolder } from './open.js';
import { renderMembers } from './views/folder.js';

const $ = (id) => document.getElementById(id);

/** A folder label as a safe OPFS directory name. */
function labelFor(name) {
  return (name || 'files').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 80) || 'files';
}

async function keep() {
  if (!state.folder) return;
  const label = labelFor(state.folder.label);
  const res = await guarded('Keeping', () => call('keep', { label }));
  if (res) { showInfo(`Kept ${plural(res.files, 'file')} (${bytes(res.bytes)}) as “${res.label}” in this browser.`); refreshKept(); }
}

/** Redraws the list of kept folders. */
export async function refreshKept() {
  const kept = await call('listKept').catch(() => []);
  fill($('kept-list'), kept.length ? kept.map((k) => {
    const li = h('li', { dataset: { label: k.label } });
    // Removing deletes the copy for good: the button asks first, in the page.
    const ask = () => fill(li, h('span', {}, `Remove “${k.label}” (${bytes(k.bytes)}) from this browser? `),
      h('button', { class: 'danger', dataset: { testid: 'confirm-remove' }, onclick: () => removeKept(k.label) }, 'Remove'), ' ',
      h('button', { onclick: () => refreshKept() }, 'Keep it'));
    return fill(li,
      h('button', { class: 'link mono', title: 'Open', onclick: () => openKept(k.label) }, k.label),
      h('span', { class: 'muted small' }, ` ${plural(k.files, 'file')} · ${bytes(k.bytes)} `),
      h('button', { class: 'link danger', title: 'Remove from this browser', onclick: ask }, 'Remove…'));
  }) : h('li', { class: 'muted' }, 'Nothing kept yet.'));
}

async function openKept(label) {
  clearBanner();
  const res = await guarded('Opening kept folder', () => call('openKept', { label }));
  if (!res) return;
  state.files = [];
  state.members = [];
  renderMembers([], 0, () => {});
  await showFolder(res, { keepable: false });
}

async function removeKept(label) {
  const ok = await guarded('Removing', () => call('removeKept', { label }));
  if (ok) { showInfo(`Removed “${label}” from this browser.`); refreshKept(); }
}

/** Wires the Keep button. */
export function wireKept() {
  $('keep-btn').addEventListener('click', keep);
}
