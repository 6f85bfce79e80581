// Monitoring: health, charts over time, alerts, incidents; request and error logs for admins.

import { api, apiList, isAdmin } from '../api.js';
import { lineChart } from '../chart.js';
import { badge, debounce, field, fmtMs, fmtTime, h, replace } from '../dom.js';
import * as live from '../sse.js';
import { busy, empty, errorBox, notice, pageHeader } from '../ui.js';

// Samples survive leaving the page (module state), so coming back shows the history.
const SAMPLE_MS = 15000;  // stays well inside RATE_LIMIT_MONITORING (500/hour)
const KEEP = 240;  // one hour
const series = { rate: [], errors: [], latency: [], cpu: [], memory: [] };
let previous = null;

function push(name, t, v) {
  const s = series[name];
  s.push({ t, v });
  if (s.length > KEEP) s.shift();
}

async function sample() {
  const m = await api('/api/monitoring/metrics');
  const t = Date.now();
  push('cpu', t, m.cpu.usage);
  push('memory', t, m.memory.usage_percent);
  push('latency', t, m.requests.average_response_time || 0);
  if (previous) {
    const dt = (t - previous.t) / 1000;
    const dTotal = m.requests.total - previous.total;
    const dFailed = m.requests.failed - previous.failed;
    push('rate', t, Math.max(0, dTotal / dt));
    push('errors', t, dTotal > 0 ? (100 * Math.max(0, dFailed)) / dTotal : 0);
  }
  previous = { t, total: m.requests.total, failed: m.requests.failed };
}

// Admins: request rate, error rate and mean latency from the request log (the latest 500
// requests) in up to 60 buckets of at least 10 s, so the charts have history at once.
// Long-lived streams last minutes by design: they would swamp the latency.
const STREAMS = new Set(['/api/observability/events/stream', '/api/chat/stream']);

function requestSeries(entries) {
  const stamped = entries.map((e) => ({ ...e, t: Date.parse(e.timestamp) }))
    .filter((e) => !Number.isNaN(e.t) && !STREAMS.has(e.path));
  if (!stamped.length) return { rate: [], errors: [], latency: [] };
  const first = Math.min(...stamped.map((e) => e.t));
  const last = Math.max(...stamped.map((e) => e.t));
  const size = Math.max(10000, Math.ceil((last - first) / 60 / 10000) * 10000);
  const start = Math.floor(first / size) * size;
  const buckets = [];
  for (let t = start; t <= last; t += size) buckets.push({ t, n: 0, failed: 0, ms: 0 });
  for (const e of stamped) {
    const b = buckets[Math.floor((e.t - start) / size)];
    b.n += 1; b.failed += e.status_code >= 400 ? 1 : 0; b.ms += e.response_time || 0;
  }
  return {
    rate: buckets.map((b) => ({ t: b.t, v: b.n / (size / 1000) })),
    errors: buckets.map((b) => ({ t: b.t, v: b.n ? (100 * b.failed) / b.n : 0 })),
    latency: buckets.map((b) => ({ t: b.t, v: b.n ? b.ms / b.n : 0 })),
  };
}

// Finished tasks and their cost per 5 minutes over the last two hours, from the task list.
function taskSeries(tasks) {
  const bucket = 5 * 60 * 1000;
  const end = Math.ceil(Date.now() / bucket) * bucket;
  const start = end - 24 * bucket;
  const done = []; const cost = [];
  for (let t = start; t < end; t += bucket) { done.push({ t, v: 0 }); cost.push({ t, v: 0 }); }
  for (const task of tasks) {
    if (!['completed', 'failed', 'stopped'].includes(task.status)) continue;
    const at = Date.parse(task.updated_at);
    if (!(at >= start && at < end)) continue;
    const i = Math.floor((at - start) / bucket);
    done[i].v += 1;
    cost[i].v += task.cost_usd || 0;
  }
  return { done, cost };
}

export default {
  title: 'Monitoring',
  render(main) {
    const health = h('section', { class: 'card' }, h('h2', {}, 'Health'), h('p', { class: 'muted' }, 'Checking…'));
    const charts = h('div', { class: 'charts' });
    const taskCharts = h('div', { class: 'charts' });
    const alerts = h('section', { class: 'card' }, h('h2', {}, 'Alerts'));
    const incidents = h('section', { class: 'card' }, h('h2', {}, 'Incidents'));
    const logs = h('section', { class: 'card' });
    const out = h('div', { 'aria-live': 'polite' });
    main.append(pageHeader('Monitoring'), out, health,
      h('section', { class: 'card' }, h('h2', {}, 'Over time'), h('p', { class: 'muted' }, 'Sampled every 15 s while this page is open; tasks from your task list.'), charts, taskCharts),
      alerts, incidents, isAdmin() ? logs : null);

    async function loadHealth() {
      try {
        const d = await api('/api/monitoring/health/detailed');
        replace(health, h('h2', {}, 'Health ', badge(d.overall.status)),
          h('div', { class: 'components' }, Object.entries(d.components || {}).map(([name, c]) => h('div', { class: 'component' },
            h('strong', {}, name), ' ', badge(c.status), h('div', { class: 'muted' }, c.response_time !== undefined && c.response_time !== null ? fmtMs(c.response_time) : ''),
            c.error ? h('div', { class: 'error-text' }, c.error) : null))));
      } catch (err) { replace(health, h('h2', {}, 'Health'), errorBox(err)); }
    }

    let history = null;  // admins: from the request log
    async function loadHistory() {
      try {
        history = requestSeries(await apiList('/api/monitoring/logs/requests', 500));
        drawCharts();
      } catch { history = null; }
    }

    function drawCharts() {
      const src = history || series;
      const per = history ? ' (request log)' : '';
      replace(charts,
        lineChart(src.rate, { title: `Request rate${per}`, unit: ' req/s', digits: 2 }),
        lineChart(src.latency, { title: `Mean response time${per}`, unit: ' ms', digits: 0 }),
        lineChart(src.errors, { title: `Error rate (HTTP 4xx/5xx)${per}`, unit: '%', digits: 1 }),
        lineChart(series.cpu, { title: 'CPU', unit: '%', digits: 0, max: 100 }),
        lineChart(series.memory, { title: 'Memory', unit: '%', digits: 0, max: 100 }));
    }

    async function tick() {
      try { await sample(); drawCharts(); } catch (err) { replace(charts, errorBox(err)); }
    }

    async function loadTasks() {
      try {
        const { done, cost } = taskSeries(await apiList('/api/tasks', 500));
        replace(taskCharts,
          lineChart(done, { title: 'Tasks finished per 5 min', digits: 0 }),
          lineChart(cost, { title: 'Model cost per 5 min', unit: ' $', digits: 4 }));
      } catch (err) { replace(taskCharts, errorBox(err)); }
    }

    async function loadAlerts() {
      try {
        const items = await api('/api/monitoring/alerts?limit=50');
        replace(alerts, h('h2', {}, 'Alerts'), items.length ? h('ul', { class: 'plain' }, items.map((a) => {
          const ack = a.acknowledged ? h('span', { class: 'muted' }, `acknowledged${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ''}`) : null;
          let button = null;
          if (!a.acknowledged && isAdmin()) {
            button = h('button', { type: 'button', class: 'small' }, 'Acknowledge');
            button.addEventListener('click', () => busy(button, async () => { await api(`/api/monitoring/alerts/${encodeURIComponent(a.id)}/acknowledge`, { method: 'POST' }); await loadAlerts(); }, out));
          }
          return h('li', { class: 'alert-item' }, badge(a.severity), ' ', h('strong', {}, a.message), ' ',
            h('span', { class: 'muted' }, `${a.component || ''} · ${fmtTime(a.timestamp)}`), ' ', ack, button);
        })) : empty('No active alerts.', 'Rules check CPU, memory, disk, error rate, p95 latency, models and MCP servers every 30 s.'));
      } catch (err) { replace(alerts, h('h2', {}, 'Alerts'), errorBox(err)); }
    }

    function incidentForm() {
      const title = h('input', { type: 'text', required: true });
      const description = h('textarea', { rows: '2' });
      const severity = h('select', {}, ['low', 'medium', 'high', 'critical'].map((s) => h('option', { value: s, selected: s === 'medium' }, s)));
      const submit = h('button', { type: 'submit' }, 'Open incident');
      const form = h('form', { class: 'inline-form' }, field('Title', title), field('Description', description), field('Severity', severity), submit);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(submit, async () => {
          await api('/api/monitoring/incidents', { method: 'POST', body: { title: title.value, description: description.value || title.value, severity: severity.value } });
          form.reset();
          await loadIncidents();
        }, out);
      });
      return h('details', {}, h('summary', {}, 'Report an incident'), form);
    }

    function incidentView(inc) {
      const timeline = h('ol', { class: 'timeline small' }, h('li', { class: 'muted' }, 'Loading timeline…'));
      const box = h('details', { class: 'incident' }, h('summary', {}, badge(inc.status), ' ', badge(inc.severity), ' ', inc.title, ' ',
        h('span', { class: 'muted' }, fmtTime(inc.created_at))), h('p', {}, inc.description || ''), timeline);
      box.addEventListener('toggle', async () => {
        if (!box.open) return;
        try {
          const full = await api(`/api/monitoring/incidents/${encodeURIComponent(inc.id)}`);
          replace(timeline, ...(full.timeline || []).map((t) => h('li', {}, h('span', { class: 'muted' }, fmtTime(t.timestamp)), ' ',
            t.status ? badge(t.status) : null, ' ', t.by || '', t.note ? ` — ${t.note}` : '')));
          if (!timeline.children.length) timeline.append(h('li', { class: 'muted' }, 'No changes yet.'));
          if (isAdmin() && full.status !== 'resolved') {
            const status = h('select', { 'aria-label': 'New status' }, ['open', 'investigating', 'resolved'].map((s) => h('option', { value: s, selected: s === full.status }, s)));
            const note = h('input', { type: 'text', placeholder: 'Note', 'aria-label': 'Note' });
            const save = h('button', { type: 'submit', class: 'small' }, 'Update');
            const form = h('form', { class: 'row' }, status, note, save);
            form.addEventListener('submit', (e) => {
              e.preventDefault();
              busy(save, async () => { await api(`/api/monitoring/incidents/${encodeURIComponent(inc.id)}`, { method: 'PATCH', body: { status: status.value, note: note.value || undefined } }); await loadIncidents(); }, out);
            });
            timeline.after(form);
          }
        } catch (err) { replace(timeline, h('li', {}, errorBox(err))); }
      }, { once: true });
      return box;
    }

    async function loadIncidents() {
      try {
        const items = await api('/api/monitoring/incidents?limit=50');
        replace(incidents, h('h2', {}, 'Incidents'), incidentForm(),
          items.length ? h('div', {}, items.map(incidentView)) : empty('No incidents.'));
      } catch (err) { replace(incidents, h('h2', {}, 'Incidents'), errorBox(err)); }
    }

    function logsView() {
      const search = h('input', { type: 'search', placeholder: 'Search path, status, request id, message', 'aria-label': 'Search logs' });
      const level = h('select', { 'aria-label': 'Error level' }, ['', 'critical', 'error', 'warning', 'info'].map((l) => h('option', { value: l }, l || 'all levels')));
      const reqs = h('div', { class: 'table-wrap' });
      const errs = h('div', { class: 'table-wrap' });
      let requests = []; let errors = [];
      const match = (obj) => !search.value || JSON.stringify(obj).toLowerCase().includes(search.value.toLowerCase());
      const draw = () => {
        const r = requests.filter(match);
        replace(reqs, r.length ? h('table', { class: 'logs' }, h('thead', {}, h('tr', {}, ['Time', 'Method', 'Path', 'Status', 'Time taken', 'Client', 'Request id'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, r.map((x) => h('tr', {}, h('td', { class: 'nowrap' }, fmtTime(x.timestamp)), h('td', {}, x.method), h('td', {}, x.path),
            h('td', { class: x.status_code >= 500 ? 'error-text' : '' }, String(x.status_code)), h('td', { class: 'num' }, fmtMs(x.response_time)),
            h('td', {}, x.ip_address || ''), h('td', { class: 'mono' }, x.request_id || ''))))) : empty('No matching requests.'));
        const e = errors.filter(match);
        replace(errs, e.length ? h('div', {}, e.map((x) => h('details', { class: 'log-entry' },
          h('summary', {}, badge(x.level), ' ', h('span', { class: 'muted' }, fmtTime(x.timestamp)), ' ', x.message, x.request_id ? h('span', { class: 'muted mono' }, ` ${x.request_id}`) : null),
          x.stack_trace ? h('pre', { class: 'output' }, x.stack_trace) : null))) : empty('No matching errors.'));
      };
      const load = async () => {
        try {
          [requests, errors] = await Promise.all([api('/api/monitoring/logs/requests?limit=100'),
            api(`/api/monitoring/logs/errors?limit=100${level.value ? `&level=${level.value}` : ''}`)]);
          draw();
        } catch (err) { replace(reqs, errorBox(err)); }
      };
      const refresh = h('button', { type: 'button', class: 'small' }, 'Refresh');
      refresh.addEventListener('click', () => busy(refresh, load));
      search.addEventListener('input', debounce(draw, 150));
      level.addEventListener('change', load);
      replace(logs, h('h2', {}, 'Logs'), h('div', { class: 'toolbar' }, search, level, refresh),
        h('h3', {}, 'Requests (latest 100)'), reqs, h('h3', {}, 'Errors (latest 100)'), errs);
      load();
    }

    drawCharts();
    tick();
    loadHealth(); loadTasks(); loadAlerts(); loadIncidents();
    if (isAdmin()) { logsView(); loadHistory(); }
    const warm = setTimeout(tick, 3000);  // a second sample soon gives the first rates
    const timer = setInterval(tick, SAMPLE_MS);
    const slow = setInterval(() => { loadHealth(); loadTasks(); if (isAdmin()) loadHistory(); }, 60000);
    const offs = [
      live.on('system_alert', loadAlerts), live.on('alert_resolved', loadAlerts),
      live.on('incident_created', loadIncidents), live.on('incident_updated', loadIncidents),
      live.on('health_status', loadHealth),
    ];
    if (!isAdmin()) out.append(notice('Request and error logs are for administrators.', 'info'));
    return () => { clearTimeout(warm); clearInterval(timer); clearInterval(slow); offs.forEach((off) => off()); };
  },
};
