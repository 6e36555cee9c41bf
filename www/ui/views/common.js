// Pieces more than one view draws: number cards, member tables, error boxes.
import { h } from '../dom.js';
import { int, hex } from '../format.js';

export function card(label, value, testid, title) {
  return h('div', { class: 'card', title }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value mono', dataset: testid ? { testid } : undefined }, value));
}

export function memberId(dec) {
  return h('span', { class: 'mono', title: `decimal ${dec}` }, hex(dec), h('span', { class: 'muted small' }, ` (${dec})`));
}

export function membersTable(members) {
  if (!members.length) return h('p', { class: 'muted' }, 'No members recorded.');
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Members' }, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', {}, 'Name'), h('th', {}, 'Peer URLs'), h('th', {}, 'Client URLs'), h('th', {}, 'Learner'))),
    h('tbody', {}, members.map((m) => h('tr', {},
      h('td', { class: 'mono' }, m.id), h('td', {}, m.name || h('span', { class: 'muted' }, '(unstarted)')),
      h('td', { class: 'mono' }, m.peerURLs.join(', ')), h('td', { class: 'mono' }, m.clientURLs.join(', ')),
      h('td', {}, m.isLearner ? 'yes' : 'no'))))));
}

export function errorBox(err, testid) {
  return h('div', { class: 'error-box', dataset: { testid } }, h('span', { class: 'mono code' }, err.code || 'ERROR'), ' ', h('span', { class: 'pre' }, err.message));
}

/** At most `n` characters of `t`, saying how many were left out. */
export const clip = (t, n) => (t.length > n ? `${t.slice(0, n)}… (${int(t.length - n)} more characters)` : t);
