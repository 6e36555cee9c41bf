// Drag and drop anywhere on the page: a folder (through entries, followed down to its snap
// folder like the folder picker) or files.
import { anyEtcdName } from './kinds.js';
import { openFiles } from './open.js';

const overlay = () => document.getElementById('drop-overlay');

async function readDirEntries(dir) {
  const reader = dir.createReader();
  const entries = [];
  for (;;) {
    const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) break;
    entries.push(...batch);
  }
  return entries;
}

async function readDirEntry(dir) {
  const entries = await readDirEntries(dir);
  return Promise.all(entries.filter((en) => en.isFile).map((en) => new Promise((ok, fail) => en.file(ok, fail))));
}

async function onDrop(e) {
  const items = [...(e.dataTransfer.items || [])].filter((i) => i.kind === 'file');
  const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  const dir = entries.find((en) => en && en.isDirectory);
  if (dir) {
    let target = dir, label = dir.name;
    for (const sub of ['member', 'snap']) {
      const kids = await readDirEntries(target);
      if (await anyEtcdName(kids.filter((k) => k.isFile).map((k) => k.name))) break;
      const next = kids.find((k) => k.isDirectory && k.name === sub);
      if (!next) break;
      target = next; label += `/${sub}`;
    }
    const files = await readDirEntry(target);
    return openFiles(label, files);
  }
  const files = [...e.dataTransfer.files];
  if (files.length) openFiles(files.length === 1 ? files[0].name : 'dropped files', files, { single: true });
}

/** Wires the window's drag events and the "Drop to open" overlay. */
export function wireDrop() {
  let depth = 0;
  window.addEventListener('dragenter', (e) => { e.preventDefault(); depth++; overlay().hidden = false; });
  window.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; overlay().hidden = true; } });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    overlay().hidden = true;
    // dataTransfer is readable only during the event: onDrop takes it before its first await.
    onDrop(e);
  });
}
