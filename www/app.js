// The viewer's page: wires the modules together. Every piece of file data is decoded in the
// worker (worker.js) by the etcd-snap package and rendered as text (ui/dom.js); every etcd
// rule (file kinds, Load's pick, names, etcdctl's table) comes from the library.
//   ui/rpc.js      the worker's requests      ui/state.js   what is open
//   ui/banner.js   errors and notices         ui/kinds.js   what the viewer does per kind
//   ui/open.js     opening and selecting      ui/pickers.js the open buttons
//   ui/drop.js     drag and drop              ui/kept.js    folders kept in OPFS
//   ui/paging.js   key paging                 ui/members.js the members in what was opened
//   ui/tabs.js     accessible tabs            ui/route.js   tab, prefix and key in the URL hash
//   ui/export.js   key list as CSV / etcdctl  ui/chart.js   the space bars
//   ui/views/      folder, snap, db, keys, space, history (a new view is one more file)
import { startWorker, call } from './ui/rpc.js';
import { state, forgetOpen } from './ui/state.js';
import { showError } from './ui/banner.js';
import { openSample } from './ui/open.js';
import { wirePickers } from './ui/pickers.js';
import { wireDrop } from './ui/drop.js';
import { wireKept, refreshKept } from './ui/kept.js';

startWorker({ onRestart: forgetOpen, onFail: showError });
window.viewer = { state, call }; // for tests and the curious

wirePickers();
document.getElementById('open-sample').addEventListener('click', openSample);
wireDrop();
wireKept();

call('version').then((v) => { document.getElementById('version').textContent = `etcd-snap ${v}`; document.body.dataset.ready = 'true'; })
  .catch((e) => showError(`The etcd-snap package failed to load: ${e.message}`, e.code));
refreshKept();
