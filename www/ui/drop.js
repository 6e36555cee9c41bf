// Drag and drop anywhere on the page: folders (each searched for members like the folder
// picker; several dropped folders are all kept, each member on its own) or files.
import { findMembers, walkEntry } from './members.js';
import { openFiles, openMembers } from './open.js';

const overlay = () => document.getElementById('drop-overlay');

async function onDrop(e) {
  const items = [...(e.dataTransfer.items || [])].filter((i) => i.kind === 'file');
  // Entries are readable only during the event: take them all before the first await.
  const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  const plain = [...e.dataTransfer.files];
  const dirs = entries.filter((en) => en && en.isDirectory);
  if (dirs.length) {
    const members = [];
    for (const dir of dirs) members.push(...await findMembers(dir.name, await walkEntry(dir)));
    const loose = entries.map((en, i) => (en && en.isFile ? plain[i] : null)).filter(Boolean);
    if (loose.length) members.push({ label: 'dropped files', files: loose });
    return openMembers(members);
  }
  if (plain.length) openFiles(plain.length === 1 ? plain[0].name : 'dropped files', plain, { single: true });
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
    onDrop(e);
  });
}
