// The console shell: sign-in gate, navigation, client-side routes.

import * as auth from './api.js';
import { h, replace, setTitle } from './dom.js';
import * as live from './sse.js';
import { setNavigator } from './ui.js';
import { onPendingCount } from './approvals.js';
import loginPage from './pages/login.js';
import accountPage from './pages/account.js';
import tasksPage from './pages/tasks.js';
import newTaskPage from './pages/newtask.js';
import taskPage from './pages/task.js';
import chatPage from './pages/chat.js';
import modelsPage from './pages/models.js';
import toolsPage from './pages/tools.js';
import workspacePage from './pages/workspace.js';
import heavyPage from './pages/heavy.js';
import monitoringPage from './pages/monitoring.js';
import adminPage from './pages/admin.js';
import approvalsPage from './pages/approvals.js';

const ROUTES = [
  [/^\/login$/, loginPage, { public: true }],
  [/^\/register$/, loginPage, { public: true, register: true }],
  [/^\/account$/, accountPage],
  [/^\/(tasks)?$/, tasksPage],
  [/^\/tasks\/new$/, newTaskPage],
  [/^\/tasks\/([^/]+)$/, taskPage],
  [/^\/approvals$/, approvalsPage],
  [/^\/chat$/, chatPage],
  [/^\/models$/, modelsPage],
  [/^\/tools$/, toolsPage],
  [/^\/workspace$/, workspacePage],
  [/^\/heavy$/, heavyPage],
  [/^\/monitoring$/, monitoringPage],
  [/^\/admin$/, adminPage],
];

const NAV = [
  ['/tasks', 'Tasks'], ['/chat', 'Chat'], ['/approvals', 'Approvals'], ['/models', 'Models'], ['/tools', 'Tools'],
  ['/workspace', 'Workspace'], ['/heavy', 'Heavy'], ['/monitoring', 'Monitoring'],
];

const app = document.getElementById('app');
let cleanup = null;
let shell = null;

function buildShell() {
  const liveBadge = h('span', { class: 'live', role: 'status', 'aria-live': 'polite' });
  const offStatus = live.onStatus((state) => {
    liveBadge.textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : 'Offline';
    liveBadge.dataset.state = state;
  });
  const nav = h('nav', { 'aria-label': 'Main' }, h('ul', {}, NAV.map(([path, label]) =>
    h('li', {}, h('a', { href: path, 'data-link': '' }, label)))));
  const adminItem = h('li', {}, h('a', { href: '/admin', 'data-link': '' }, 'Admin'));
  // The pending approvals' count on the menu, hidden at zero.
  const pendingBadge = h('span', { class: 'count', hidden: true });
  nav.querySelector('a[href="/approvals"]').append(' ', pendingBadge);
  const offPending = onPendingCount((n) => {
    pendingBadge.textContent = String(n);
    pendingBadge.hidden = !n;
    pendingBadge.setAttribute('aria-label', `${n} pending`);
  });
  const who = h('a', { href: '/account', 'data-link': '', class: 'who' });
  const header = h('header', { class: 'top' },
    h('a', { href: '/tasks', 'data-link': '', class: 'brand' }, 'Crazy Gary'),
    nav, h('div', { class: 'session' }, liveBadge, who));
  const main = h('main', { id: 'main', tabindex: '-1' });
  const update = (u) => {
    who.textContent = u ? (u.name || u.email) : '';
    who.title = u ? `${u.email} (${u.role}) — account` : '';
    if (u && u.role === 'admin') nav.firstChild.append(adminItem); else adminItem.remove();
  };
  update(auth.user());
  const offAuth = auth.onAuthChange(update);
  replace(app, header, main);
  return { header, nav, main, dispose: () => { offStatus(); offAuth(); offPending(); } };
}

function match(pathname) {
  for (const [re, page, opts] of ROUTES) {
    const m = re.exec(pathname);
    if (m) return { page, params: m.slice(1), opts: opts || {} };
  }
  return null;
}

async function render() {
  if (cleanup) { try { cleanup(); } catch (err) { console.error(err); } cleanup = null; }
  const path = window.location.pathname;
  const route = match(path);
  const signed = !!auth.user();
  if (!signed && !(route && route.opts.public)) {
    const next = path + window.location.search;
    return go(`/login${next && next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
  }
  if (signed && route && route.opts.public) return go('/tasks', { replace: true });
  let main;
  if (route && route.opts.public) {
    if (shell) { shell.dispose(); shell = null; }
    main = h('main', { id: 'main', class: 'public', tabindex: '-1' });
    replace(app, main);
  } else {
    if (!shell) shell = buildShell();
    main = replace(shell.main);
    for (const a of shell.nav.querySelectorAll('a')) {
      const here = path === a.getAttribute('href') || path.startsWith(`${a.getAttribute('href')}/`) || (path === '/' && a.getAttribute('href') === '/tasks');
      if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
  }
  if (!route) {
    setTitle('Not found');
    main.append(h('h1', {}, 'Page not found'), h('p', {}, 'Nothing lives at this address. ', h('a', { href: '/tasks', 'data-link': '' }, 'Go to tasks')));
    return undefined;
  }
  setTitle(route.page.title);
  const query = new URLSearchParams(window.location.search);
  cleanup = route.page.render(main, route.params, query, route.opts) || null;
  const heading = main.querySelector('h1');
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  return undefined;
}

function go(path, { replace: replaceState = false } = {}) {
  if (replaceState) window.history.replaceState({}, '', path);
  else window.history.pushState({}, '', path);
  render();
  window.scrollTo(0, 0);
}

setNavigator(go);

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  go(a.getAttribute('href'));
});
window.addEventListener('popstate', render);

auth.onAuthChange((u) => {
  if (u) live.start();
  else {
    live.stop();
    if (shell) { shell.dispose(); shell = null; }
    render();
  }
});

// Tests use this to drop the live connection and prove that it catches up.
window.crazyGaryConsole = { dropLive: live.drop };

(async () => {
  await auth.restore();
  if (auth.user()) live.start();
  render();
})();
