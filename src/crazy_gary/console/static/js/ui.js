// Shared pieces of the pages: error and empty states, navigation, busy buttons.

import { clear, h, replace } from './dom.js';

// An API error with its message, code and request id (what an operator asks for).
export function errorBox(err, extra) {
  const box = h('div', { class: 'alert error', role: 'alert' },
    h('strong', {}, err && err.message ? err.message : String(err)));
  if (err && err.code) box.append(h('div', { class: 'meta' }, `Code ${err.code}`,
    err.requestId ? ` · request id ${err.requestId}` : ''));
  const problems = err && err.details && err.details.validation_errors;
  if (Array.isArray(problems) && problems.length) box.append(h('ul', {}, problems.map((p) => h('li', {}, String(p)))));
  if (err && err.code === 'ENDPOINT_UNAVAILABLE') {
    box.append(h('p', {}, 'No model could answer. ', h('a', { href: '/models', 'data-link': '' }, 'See the models'),
      ' to wake one, or check its configuration.'));
  }
  if (extra) box.append(extra);
  return box;
}

export function empty(title, ...body) {
  return h('div', { class: 'empty' }, h('strong', {}, title), body.length ? h('p', {}, body) : null);
}

export function notice(text, kind = 'info') {
  return h('div', { class: `alert ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

let navigateFn = (path) => { window.location.assign(path); };
export function setNavigator(fn) { navigateFn = fn; }
export function navigate(path, opts) { navigateFn(path, opts); }

export function link(path, ...children) {
  return h('a', { href: path, 'data-link': '' }, children);
}

// Run an async action with the button disabled; errors go into `out` when given.
export async function busy(button, action, out) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    if (out) clear(out);
    return await action();
  } catch (err) {
    if (out) replace(out, errorBox(err));
    else throw err;
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, title),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export const DOCS = 'https://github.com/crazy-gary/crazy-gary/blob/main/docs/';
