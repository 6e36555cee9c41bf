// What the page has open, shared by the modules that open, show and keep files.

export const state = {
  folder: null, // { label, files, load } from the worker
  files: [], // the Files (or Blobs) of the open folder, to keep them
  selected: null, // file name shown
  db: null, // open db info from the worker
  members: [], // [{ label, files }] when the opened folder holds several data dirs
  busy: 0,
};

/** Counts work in flight; `body.busy` shows a spinner while any runs. */
export function setBusy(on, what) {
  state.busy += on ? 1 : -1;
  document.body.classList.toggle('busy', state.busy > 0);
  if (what) document.body.dataset.busy = what;
  // The live region: screen readers hear "Opening db…" and when it is done.
  const live = document.getElementById('live');
  if (live) live.textContent = state.busy > 0 ? `${document.body.dataset.busy || 'Working'}…` : 'Done.';
}

/** Forgets the folder and db (the worker that held them is gone). */
export function forgetOpen() {
  state.folder = null;
  state.db = null;
}
