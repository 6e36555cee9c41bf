// An accessible tab bar (WAI-ARIA tabs pattern): role=tab buttons with aria-selected and
// aria-controls, one tabpanel, Left / Right / Home / End move between tabs. A view adds a
// tab by adding an entry (a "doctor" view would be one more).
import { h } from './dom.js';

/** `list`: [[name, label]]; `render(name, panel, opts)` draws a tab into the panel.
 *  Returns { bar, panel, show(name, opts), current }. */
export function tabs(id, list, render) {
  const panel = h('div', { class: 'tab-body', role: 'tabpanel', id: `${id}-panel`, tabindex: 0 });
  let current = null;
  const buttons = list.map(([name, label]) => h('button', {
    role: 'tab', class: 'tab', id: `${id}-tab-${name}`, 'aria-controls': panel.id, 'aria-selected': 'false', tabindex: -1,
    dataset: { tab: label, name },
    onclick: () => show(name),
  }, label));
  const bar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Views of this file' }, buttons);
  bar.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const b = buttons[(to + buttons.length) % buttons.length];
    b.focus();
    show(b.dataset.name);
  });
  function show(name, opts = {}) {
    if (name === current && !opts.force) return;
    current = name;
    for (const b of buttons) {
      const on = b.dataset.name === name;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      if (on) panel.setAttribute('aria-labelledby', b.id);
    }
    render(name, panel, opts);
  }
  return { bar, panel, show, get current() { return current; } };
}
