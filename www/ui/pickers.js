// The open buttons: a folder (File System Access picker, else a webkitdirectory input) or
// files. What was picked is searched for members (ui/members.js): a snap folder, a data dir
// (followed down to member/snap) or a folder of several data dirs.
import { findMembers, walkHandle, MAX_DEPTH, SKIP_DIRS } from './members.js';
import { openFiles, openMembers } from './open.js';

const $ = (id) => document.getElementById(id);

async function pickFolder() {
  if (window.showDirectoryPicker) {
    let dir;
    try { dir = await window.showDirectoryPicker({ id: 'etcd-snap', mode: 'read' }); } catch (e) {
      if (e.name === 'AbortError') return;
      return $('folder-input').click();
    }
    return openMembers(await findMembers(dir.name, await walkHandle(dir)));
  }
  $('folder-input').click();
}

/** A recursive folder pick (`webkitRelativePath`s) as [{ dir, file }] below its root. */
function fromRelativePaths(all) {
  const root = (all[0]?.webkitRelativePath || '').split('/')[0] || 'folder';
  const found = [];
  for (const f of all) {
    const parts = (f.webkitRelativePath || f.name).split('/').slice(1, -1);
    if (parts.length > MAX_DEPTH || parts.some((p) => SKIP_DIRS.has(p))) continue;
    found.push({ dir: parts.join('/'), file: f });
  }
  return [root, found];
}

/** Wires the open buttons and their hidden inputs. */
export function wirePickers() {
  $('open-folder').addEventListener('click', pickFolder);
  $('open-files').addEventListener('click', () => $('files-input').click());
  $('folder-input').addEventListener('change', async (e) => {
    const all = [...e.target.files];
    e.target.value = '';
    const [root, found] = fromRelativePaths(all);
    openMembers(await findMembers(root, found));
  });
  $('files-input').addEventListener('change', (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    openFiles(files.length === 1 ? files[0].name : 'files', files, { single: true });
  });
}
