// Cursor paging: page n starts after the last key of page n-1, as the worker's `keys` op
// (InspectDb.keys) pages; the cursors of pages seen are kept so Prev needs no offset.

export function cursorPager() {
  let cursors = [null];
  let page = 0;
  return {
    get page() { return page; },
    /** The `after` cursor of the current page. */
    get after() { return cursors[page]; },
    reset() { cursors = [null]; page = 0; },
    next() { page++; },
    prev() { if (page === 0) return false; page--; return true; },
    /** Records where the page after the current one starts (`null`: there is none). */
    got(next) { cursors[page + 1] = next; },
  };
}
