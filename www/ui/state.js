// What the page has open, shared by the modules that open, show and keep files.

export const state = {
  folder: null, // { label, files, load } from the worker
  files: [], // the Files (or Blobs) of the open folder, to keep them
  selected: null, // file name shown
  db: null, // open db info from the worker
  busy: 0,
};

/** Counts work in flight; `body.busy` shows a spinner while any runs. */
export function setBusy(on, what) {
  state.busy += on ? 1 : -1;
  document.body.classList.toggle('busy', state.busy > 0);
  if (what) document.body.dataset.busy = what;
}

/** Forgets the folder and db (the worker that held them is gone). */
export function forgetOpen() {
  state.folder = null;
  state.db = null;
}
