// The task list: up to 500 tasks, rendered in chunks, updated in place from live events.

import { api, apiList } from '../api.js';
import { badge, clear, debounce, fmtCost, fmtTime, h, replace } from '../dom.js';
import * as live from '../sse.js';
import { empty, errorBox, pageHeader } from '../ui.js';

const STATUSES = ['', 'created', 'running', 'completed', 'failed', 'stopped'];
const MAX = 500;
const CHUNK = 100;

function row(task) {
  const cells = {
    title: h('a', { href: `/tasks/${encodeURIComponent(task.id)}`, 'data-link': '' }),
    status: h('td'),
    phase: h('td', { class: 'muted' }),
    bar: h('progress', { max: '100', 'aria-label': 'Progress' }),
    pct: h('span', { class: 'pct' }),
    model: h('td'),
    cost: h('td', { class: 'num' }),
    updated: h('td', { class: 'muted nowrap' }),
  };
  const tr = h('tr', { 'data-task': task.id }, h('td', { class: 'title' }, cells.title), cells.status,
    cells.phase, h('td', { class: 'progress' }, cells.bar, cells.pct), cells.model, cells.cost, cells.updated);
  return { tr, cells, task: {}, seqs: new Set() };
}

// Write only what changed: a live update touches a few text nodes, never the whole table.
function paint(r, task) {
  const old = r.task;
  if (old.title !== task.title) r.cells.title.textContent = task.title || task.id;
  if (old.status !== task.status) replace(r.cells.status, badge(task.status));
  const phase = task.status === 'running' ? (task.phase || '') : '';
  if (r.cells.phase.textContent !== phase) r.cells.phase.textContent = phase;
  if (old.progress !== task.progress) {
    r.cells.bar.value = task.progress || 0;
    r.cells.pct.textContent = `${task.progress || 0}%`;
  }
  if (old.model !== task.model) r.cells.model.textContent = task.model || '—';
  if (old.cost_usd !== task.cost_usd) r.cells.cost.textContent = fmtCost(task.cost_usd);
  if (old.updated_at !== task.updated_at) r.cells.updated.textContent = fmtTime(task.updated_at);
  r.task = { ...task };
}

export default {
  title: 'Tasks',
  render(main, _params, query) {
    const rows = new Map();
    const pending = new Map();
    let frame = 0;
    let disposed = false;
    const status = h('select', { id: 'status-filter', 'aria-label': 'Status' },
      STATUSES.map((s) => h('option', { value: s, selected: s === (query.get('status') || '') }, s || 'all statuses')));
    const search = h('input', { type: 'search', placeholder: 'Filter by title', 'aria-label': 'Filter by title' });
    const count = h('span', { class: 'muted', 'aria-live': 'polite' });
    const tbody = h('tbody');
    const table = h('table', { class: 'tasks' },
      h('thead', {}, h('tr', {}, ['Title', 'Status', 'Phase', 'Progress', 'Model', 'Cost', 'Updated'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody);
    const body = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'Loading tasks…'));
    main.append(
      pageHeader('Tasks', h('a', { href: '/tasks/new', 'data-link': '', class: 'button primary' }, 'New task')),
      h('div', { class: 'toolbar' }, status, search, count), body);

    const wanted = (task) => !status.value || task.status === status.value;
    const visible = (task) => !search.value || (task.title || '').toLowerCase().includes(search.value.toLowerCase());
    const updateCount = () => { count.textContent = `${rows.size} task${rows.size === 1 ? '' : 's'}`; };

    function showEmpty() {
      if (rows.size) return;
      replace(body, empty(status.value ? `No ${status.value} tasks.` : 'No tasks yet.',
        'Hand an agent some work: ', h('a', { href: '/tasks/new', 'data-link': '' }, 'create a task'),
        ', or ask something in ', h('a', { href: '/chat', 'data-link': '' }, 'Chat'), '.'));
    }

    async function load() {
      rows.clear();
      clear(tbody);
      const filter = status.value ? `?status=${encodeURIComponent(status.value)}` : '';
      let tasks;
      try {
        tasks = await apiList(`/api/tasks${filter}`, MAX);
      } catch (err) {
        replace(body, errorBox(err));
        return;
      }
      if (disposed) return;
      replace(body, table);
      // Chunks of rows per animation frame: the page stays responsive while 500 rows appear.
      let i = 0;
      const chunk = () => {
        if (disposed) return;
        const frag = document.createDocumentFragment();
        for (const task of tasks.slice(i, i + CHUNK)) {
          if (rows.has(task.id)) continue;
          const r = row(task);
          paint(r, task);
          r.tr.hidden = !visible(task);
          rows.set(task.id, r);
          frag.append(r.tr);
        }
        tbody.append(frag);
        i += CHUNK;
        updateCount();
        if (i < tasks.length) requestAnimationFrame(chunk); else showEmpty();
      };
      chunk();
    }

    // A task first seen through an event (or just finished) is read once for what events
    // do not carry (model, cost).
    const reading = new Set();
    async function refetch(id) {
      if (reading.has(id)) return;
      reading.add(id);
      try {
        const task = await api(`/api/tasks/${encodeURIComponent(id)}`);
        const r = rows.get(id);
        if (r && !disposed) paint(r, { ...r.task, model: task.model, cost_usd: task.cost_usd, progress: task.progress, status: task.status });
      } catch { /* the row keeps what the events said */ } finally { reading.delete(id); }
    }

    function flush() {
      frame = 0;
      for (const [id, change] of pending) {
        let r = rows.get(id);
        const merged = { ...(r ? r.task : { id, model: change.model, cost_usd: 0 }), ...change };
        if (!r) {
          if (!wanted(merged)) continue;
          r = row(merged);
          rows.set(id, r);
          refetch(id);
          if (tbody.isConnected) tbody.prepend(r.tr); else { replace(body, table); tbody.prepend(r.tr); }
        }
        paint(r, merged);
        r.tr.hidden = !visible(merged);
      }
      pending.clear();
      updateCount();
    }

    function onEvent(data) {
      if (!data.task_id) return;
      const id = data.task_id;
      const change = { ...(pending.get(id) || {}) };
      for (const key of ['title', 'status', 'phase', 'progress', 'updated_at', 'model']) {
        if (data[key] !== undefined) change[key] = data[key];
      }
      const r = rows.get(id);
      if (data.step && r && !r.seqs.has(data.step.seq)) {
        r.seqs.add(data.step.seq);
        change.cost_usd = (change.cost_usd ?? r.task.cost_usd ?? 0) + (data.step.cost_usd || 0);
      }
      pending.set(id, change);
      if (r && ['completed', 'failed', 'stopped'].includes(data.status)) setTimeout(() => refetch(id), 200);
      if (!frame) frame = requestAnimationFrame(flush);
    }

    const offs = ['task_created', 'task_update', 'task_completed'].map((name) => live.on(name, onEvent));
    status.addEventListener('change', () => {
      const url = status.value ? `/tasks?status=${status.value}` : '/tasks';
      window.history.replaceState({}, '', url);
      load();
    });
    search.addEventListener('input', debounce(() => {
      for (const r of rows.values()) r.tr.hidden = !visible(r.task);
    }, 100));
    load();
    return () => { disposed = true; offs.forEach((off) => off()); cancelAnimationFrame(frame); };
  },
};
