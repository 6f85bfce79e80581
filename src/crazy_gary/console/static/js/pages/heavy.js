// Heavy orchestration: start a workflow or a multi-agent run, watch it live, results, reports.

import { api, download } from '../api.js';
import { badge, field, fmtDuration, h, json, replace } from '../dom.js';
import { renderMarkdown } from '../markdown.js';
import * as live from '../sse.js';
import { busy, empty, errorBox, pageHeader } from '../ui.js';

const EXAMPLE = JSON.stringify([
  { step: 1, tool: 'code_analyzer', parameters: { target: '.', type: 'quality' } },
  { step: 2, tool: 'report_generator', parameters: { format: 'html', include_recommendations: true } },
], null, 2);

const ENDED = new Set(['completed', 'failed', 'timeout', 'cancelled']);

export default {
  title: 'Heavy',
  render(main, _params, query) {
    const out = h('div', { 'aria-live': 'polite' });
    const run = h('section', { class: 'card run', 'aria-live': 'polite' });
    let runId = query.get('run');
    let progress = null;

    const question = h('textarea', { rows: '3', required: true, placeholder: 'A question several agents research from different angles' });
    const agents = h('input', { type: 'number', min: '1', max: '8', value: '3' });
    const agentTimeout = h('input', { type: 'number', min: '1', max: '86400', placeholder: '3600' });
    const startAgents = h('button', { type: 'submit', class: 'primary' }, 'Start multi-agent run');
    const agentForm = h('form', { class: 'card' }, h('h2', {}, 'Multi-agent run'), field('Question', question),
      h('div', { class: 'row' }, field('Agents', agents), field('Timeout (s)', agentTimeout)), startAgents);

    const steps = h('textarea', { rows: '10', class: 'mono', spellcheck: 'false' }, EXAMPLE);
    const parallel = h('input', { type: 'checkbox' });
    const wfTimeout = h('input', { type: 'number', min: '1', max: '86400', placeholder: '3600' });
    const startWf = h('button', { type: 'submit', class: 'primary' }, 'Start workflow');
    const toolNames = h('p', { class: 'muted' });
    const wfForm = h('form', { class: 'card' }, h('h2', {}, 'Workflow'),
      field('Steps (JSON)', steps, 'Each step: {"step": n, "tool": name, "parameters": {...}}; "$steps.N.result" refers to an earlier result.'),
      toolNames, h('div', { class: 'row' }, h('label', { class: 'check' }, parallel, ' Run independent steps in parallel'), field('Timeout (s)', wfTimeout)), startWf);

    main.append(pageHeader('Heavy'), out, run, h('div', { class: 'two' }, agentForm, wfForm));

    async function start(body, button) {
      await busy(button, async () => {
        const started = await api('/api/heavy/orchestrate', { method: 'POST', body });
        runId = started.orchestration_id;
        window.history.replaceState({}, '', `/heavy?run=${encodeURIComponent(runId)}`);
        await load();
      }, out);
    }
    agentForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = { query: question.value, num_agents: Number(agents.value || 3) };
      if (agentTimeout.value) body.config = { timeout: Number(agentTimeout.value) };
      start(body, startAgents);
    });
    wfForm.addEventListener('submit', (e) => {
      e.preventDefault();
      let workflow;
      try { workflow = JSON.parse(steps.value); } catch (err) { replace(out, errorBox(new Error(`Steps are not valid JSON: ${err.message}`))); return; }
      const config = { parallel: parallel.checked };
      if (wfTimeout.value) config.timeout = Number(wfTimeout.value);
      start({ workflow, config }, startWf);
    });

    function stepRow(s) {
      return h('tr', {}, h('td', {}, String(s.step)), h('td', {}, s.name || ''), h('td', {}, h('code', {}, s.tool || '')),
        h('td', {}, badge(s.status)),
        h('td', {}, h('progress', { max: '100', value: String(s.progress || 0), 'aria-label': `Step ${s.step} progress` })),
        h('td', { class: 'nowrap' }, fmtDuration(s.duration)),
        h('td', {}, s.task_id ? h('a', { href: `/tasks/${encodeURIComponent(s.task_id)}`, 'data-link': '' }, 'task ›') : null,
          s.error ? h('div', { class: 'error-text' }, s.error) : null));
    }

    function renderRun() {
      const p = progress;
      const stop = h('button', { type: 'button', class: 'danger' }, 'Stop');
      stop.addEventListener('click', () => busy(stop, async () => { await api(`/api/heavy/orchestrations/${encodeURIComponent(p.orchestration_id)}/stop`, { method: 'POST' }); await load(); }, out));
      replace(run,
        h('h2', {}, p.mode === 'heavy' || p.query ? 'Multi-agent run ' : 'Workflow run ', badge(p.status)),
        p.query ? h('p', {}, p.query) : null,
        h('div', { class: 'task-status' }, h('span', { class: 'bar' }, h('progress', { max: '100', value: String(p.progress || 0), 'aria-label': 'Run progress' }), h('span', { class: 'pct' }, `${Math.round(p.progress || 0)}%`)),
          h('span', { class: 'muted' }, ENDED.has(p.status) ? '' : `about ${fmtDuration(p.estimated_time_remaining)} left`),
          ENDED.has(p.status) ? null : stop),
        h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['#', 'Step', 'Tool', 'Status', 'Progress', 'Duration', ''].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, (p.steps || []).map(stepRow)))),
        p.answer ? h('div', { class: 'answer' }, h('h3', {}, 'Answer'), renderMarkdown(p.answer)) : null,
        p.artifacts && p.artifacts.length ? h('div', {}, h('h3', {}, 'Reports'), h('ul', {}, p.artifacts.map((a) => {
          const b = h('button', { type: 'button', class: 'link' }, `${a.name || a.path} (${a.format || ''})`);
          b.addEventListener('click', () => busy(b, () => download(a.download_url || `/api/workspace/files/${a.path}`, (a.path || a.name).split('/').pop()), out));
          return h('li', {}, b);
        }))) : null,
        p.results ? h('details', {}, h('summary', {}, 'Step results (JSON)'), json(p.results)) : null);
    }

    async function load() {
      try {
        progress = await api(`/api/heavy/progress${runId ? `?orchestration_id=${encodeURIComponent(runId)}` : ''}`);
        runId = progress.orchestration_id;
        renderRun();
      } catch (err) {
        if (err.status === 404 && !runId) replace(run, empty('No runs yet.', 'Start a multi-agent run or a workflow above; its steps appear here live.'));
        else replace(run, errorBox(err));
      }
    }
    api('/api/heavy/tools').then((tools) => { toolNames.textContent = `Tools: ${tools.map((t) => t.name).join(', ')}`; }).catch(() => {});
    let pending = null;
    const off = live.on('orchestration_update', (data) => {
      if (!runId || data.orchestration_id !== runId) return;
      clearTimeout(pending);
      pending = setTimeout(load, 150);
    });
    load();
    return () => { off(); clearTimeout(pending); };
  },
};
