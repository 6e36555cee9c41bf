// Element builders. Data (keys, values, names from files) only ever becomes text: strings are
// added as text nodes, attributes are set one by one, and innerHTML is never used.
const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, props, children) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An HTML element: h('td', { class: 'num' }, 'text', child, ...). */
export const h = (tag, props, ...children) => build(document.createElement(tag), props, children);

/** An SVG element. */
export const s = (tag, props, ...children) => build(document.createElementNS(SVG_NS, tag), props, children);

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A verdict badge: ok / bad / warn / info. */
export const badge = (kind, text, title) => h('span', { class: `badge ${kind}`, title }, text);

/** Makes a non-button element (a table row, a list item) act like one for the keyboard:
 *  focusable, and Enter or Space runs `onActivate` (as a click does). */
export function activatable(el, onActivate, label) {
  el.tabIndex = 0;
  if (label) el.setAttribute('aria-label', label);
  el.addEventListener('click', onActivate);
  el.addEventListener('keydown', (e) => {
    if (e.target !== el || (e.key !== 'Enter' && e.key !== ' ')) return;
    e.preventDefault();
    onActivate(e);
  });
  return el;
}

/** Singular or plural: `plural(1, 'file')` is "1 file", `plural(2, 'file')` "2 files". */
export const plural = (n, word, many = `${word}s`) => `${new Intl.NumberFormat('en-US').format(n)} ${n === 1 ? word : many}`;

/** Tells screen readers (the page's live region) what is going on. */
export function announce(text) {
  const el = document.getElementById('live');
  if (el) el.textContent = text;
}
