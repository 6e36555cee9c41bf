// The open buttons: a folder (File System Access picker, else a webkitdirectory input) or
// files. A data dir or member dir is followed down to its snap folder.
import { anyEtcdName } from './kinds.js';
import { openFiles } from './open.js';

const $ = (id) => document.getElementById(id);

async function pickFolder() {
  if (window.showDirectoryPicker) {
    let dir;
    try { dir = await window.showDirectoryPicker({ id: 'etcd-snap', mode: 'read' }); } catch (e) {
      if (e.name === 'AbortError') return;
      return $('folder-input').click();
    }
    // A data dir or member dir was picked: descend to its snap folder.
    let label = dir.name;
    for (const sub of ['member', 'snap']) {
      const names = [];
      for await (const [name] of dir.entries()) names.push(name);
      if (!(await anyEtcdName(names)) && names.includes(sub)) {
        try { dir = await dir.getDirectoryHandle(sub); label += `/${sub}`; } catch { break; }
      }
    }
    const files = [];
    for await (const [, handle] of dir.entries()) if (handle.kind === 'file') files.push(await handle.getFile());
    return openFiles(label, files);
  }
  $('folder-input').click();
}

/** From a recursive folder pick (`webkitRelativePath`s), the files of the one folder to show:
 *  the chosen folder itself, or its `snap` / `member/snap` folder if it is a data dir. */
async function pickSnapFolder(all) {
  const byDir = new Map();
  for (const f of all) {
    const parts = (f.webkitRelativePath || f.name).split('/');
    const dir = parts.slice(0, -1).join('/');
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir).push(f);
  }
  const root = (all[0]?.webkitRelativePath || '').split('/')[0] || 'folder';
  const top = byDir.get(root) || [];
  if (await anyEtcdName(top.map((f) => f.name))) return [root, top];
  for (const d of [`${root}/snap`, `${root}/member/snap`]) if (byDir.has(d)) return [d, byDir.get(d)];
  return [root, top.length ? top : all];
}

/** Wires the open buttons and their hidden inputs. */
export function wirePickers() {
  $('open-folder').addEventListener('click', pickFolder);
  $('open-files').addEventListener('click', () => $('files-input').click());
  $('folder-input').addEventListener('change', async (e) => {
    const all = [...e.target.files];
    e.target.value = '';
    const [dirName, files] = await pickSnapFolder(all);
    openFiles(dirName, files);
  });
  $('files-input').addEventListener('change', (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    openFiles(files.length === 1 ? files[0].name : 'files', files, { single: true });
  });
}
