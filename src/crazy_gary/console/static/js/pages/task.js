// One task: plan, live timeline of steps, answer, artifacts, its pending approvals, Stop
// and Retry.

import { api, download } from '../api.js';
import { badge, clear, fmtCost, fmtMs, fmtNum, fmtTime, h, json, replace, setTitle } from '../dom.js';
import { approvalList } from '../approvals.js';
import { renderMarkdown } from '../markdown.js';
import * as live from '../sse.js';
import { busy, errorBox, navigate, pageHeader } from '../ui.js';

const OPEN = new Set(['created', 'running']);
const RETRYABLE = new Set(['failed', 'stopped']);

function pretty(text) {
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

function stepView(step) {
  const cost = step.kind !== 'tool'
    ? `${fmtNum(step.usage && step.usage.total_tokens)} tokens · ${fmtCost(step.cost_usd)}` : '';
  const head = h('div', { class: 'step-head' },
    h('span', { class: `kind k-${step.kind}` }, step.kind),
    h('strong', {}, step.kind === 'tool' ? step.tool : (step.model || 'model')),
    h('span', { class: `outcome o-${String(step.outcome).replace(/[^a-z_]/gi, '')}` }, step.outcome || ''),
    h('span', { class: 'muted' }, fmtMs(step.latency_ms)),
    cost ? h('span', { class: 'muted' }, cost) : null);
  const body = [];
  if (step.kind === 'tool') {
    body.push(h('div', { class: 'label' }, 'Arguments'), h('pre', { class: 'json' }, pretty(step.arguments ?? {})));
    body.push(h('details', { open: String(step.output || '').length < 600 },
      h('summary', {}, 'Output'), h('pre', { class: 'output' }, step.output ?? '')));
  } else {
    if (step.reasoning) body.push(h('details', {}, h('summary', {}, 'Reasoning'), h('pre', { class: 'output' }, step.reasoning)));
    if (step.content) body.push(h('pre', { class: 'output' }, step.content));
    for (const call of step.tool_calls || []) {
      body.push(h('div', { class: 'call' }, '→ ', h('code', {}, call.name || ''), ' ', h('code', {}, typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments))));
    }
  }
  return h('li', { class: `step s-${step.kind}`, 'data-seq': String(step.seq) }, head, body);
}

export default {
  title: 'Task',
  render(main, [rawId]) {
    const id = decodeURIComponent(rawId);
    let task = null;
    const seen = new Set();
    const head = pageHeader('Task');
    const status = h('span'); const phase = h('span', { class: 'muted' });
    const bar = h('progress', { max: '100', 'aria-label': 'Progress' }); const pct = h('span', { class: 'pct' });
    const actions = h('div', { class: 'actions' });
    const facts = h('dl', { class: 'facts inline' });
    const out = h('div', { 'aria-live': 'polite' });
    const plan = h('section', { class: 'card', hidden: true });
    const timeline = h('ol', { class: 'timeline', 'aria-live': 'polite' });
    const totals = h('p', { class: 'muted' });
    const answer = h('section', { class: 'card answer', hidden: true });
    const artifacts = h('section', { class: 'card', hidden: true });
    const description = h('section', { class: 'card' });
    // The calls waiting for the owner's decision (phase awaiting_approval).
    const approvalHolder = h('div');
    const approvalsBox = h('section', { class: 'task-approvals', hidden: true },
      h('h2', {}, 'Waiting for your approval'), approvalHolder);
    const approvals = approvalList(approvalHolder, { showTask: false, onChange: (n) => { approvalsBox.hidden = n === 0; } });
    main.append(head, h('div', { class: 'task-status' }, status, phase, h('span', { class: 'bar' }, bar, pct), actions),
      out, approvalsBox, facts, plan, answer, artifacts,
      h('section', { class: 'card' }, h('h2', {}, 'Steps'), totals, timeline), description);

    function renderPlan(items) {
      if (!items || !items.length) return;
      plan.hidden = false;
      replace(plan, h('h2', {}, 'Plan'), h('ol', {}, items.map((p) => h('li', {}, p))));
    }

    function addStep(step) {
      if (seen.has(step.seq)) return;
      seen.add(step.seq);
      const view = stepView(step);
      const later = [...timeline.children].find((li) => Number(li.dataset.seq) > step.seq);
      timeline.insertBefore(view, later || null);
    }

    function renderStatus() {
      replace(status, badge(task.status));
      phase.textContent = task.status === 'running' && task.phase ? `${task.phase}${task.phase_reason ? ` — ${task.phase_reason}` : ''}` : '';
      if (task.status === 'running' && task.phase === 'waiting_for_model') {
        phase.append(' · ', h('a', { href: '/models', 'data-link': '' }, 'see the models'));
      }
      bar.value = task.progress || 0;
      pct.textContent = `${task.progress || 0}%`;
      // Buttons are rebuilt only when the status changes: a live update must not pull a
      // button away from under the pointer or the keyboard focus.
      if (actions.dataset.status === task.status) return;
      actions.dataset.status = task.status;
      clear(actions);
      if (task.status === 'created') {
        const startBtn = h('button', { type: 'button' }, 'Start');
        startBtn.addEventListener('click', () => busy(startBtn, async () => { await api(`/api/tasks/${encodeURIComponent(id)}/start`, { method: 'POST' }); await load(); }, out));
        actions.append(startBtn);
      }
      if (OPEN.has(task.status)) {
        const stop = h('button', { type: 'button', class: 'danger' }, 'Stop');
        stop.addEventListener('click', () => busy(stop, async () => { await api(`/api/tasks/${encodeURIComponent(id)}/stop`, { method: 'POST' }); await load(); }, out));
        actions.append(stop);
      }
      // A failed or stopped task goes on as a new task (docs/tasks.md); chat turns cannot.
      if (RETRYABLE.has(task.status) && task.origin !== 'chat') {
        const retry = h('button', { type: 'button', class: 'primary' }, 'Retry');
        retry.addEventListener('click', () => busy(retry, async () => {
          const made = await api(`/api/tasks/${encodeURIComponent(id)}/retry`, { method: 'POST' });
          navigate(`/tasks/${encodeURIComponent(made.task_id)}`);
        }, out));
        actions.append(retry);
      }
    }

    function render() {
      setTitle(`${task.title} (${task.status})`);
      head.querySelector('h1').textContent = task.title;
      renderStatus();
      replace(facts, ...[
        ['Model', task.result && task.result.answered_by && task.result.answered_by !== task.model ? `${task.model} (answered by ${task.result.answered_by})` : task.model],
        ['Priority', task.priority], ['Origin', task.origin],
        ['Created', fmtTime(task.created_at)], ['Started', fmtTime(task.started_at)], ['Finished', fmtTime(task.completed_at)],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v || '—')]));
      if (task.retry_of) facts.append(h('dt', {}, 'Retry of'), h('dd', {}, h('a', { href: `/tasks/${encodeURIComponent(task.retry_of)}`, 'data-link': '' }, task.retry_of)));
      if (task.conversation_id) facts.append(h('dt', {}, 'Conversation'), h('dd', {}, h('a', { href: `/chat?conversation=${encodeURIComponent(task.conversation_id)}`, 'data-link': '' }, 'open in Chat')));
      replace(description, h('details', {}, h('summary', {}, h('h2', { class: 'inline' }, 'Description')),
        h('pre', { class: 'output' }, task.description)));
      approvals.sync(task.status === 'running' ? task.pending_approvals || [] : []);
      const result = task.result || {};
      renderPlan(task.plan || result.plan);
      for (const step of result.steps || []) addStep(step);
      const usage = result.usage;
      totals.textContent = usage ? `${seen.size} steps · ${fmtNum(usage.prompt_tokens)} prompt + ${fmtNum(usage.completion_tokens)} completion tokens · ${fmtCost(usage.cost_usd)} in total` : (OPEN.has(task.status) ? 'Waiting for the first step…' : 'No steps.');
      if (task.error) replace(out, errorBox({ message: task.error.message, code: task.error.code }));
      if (result.answer) {
        answer.hidden = false;
        replace(answer, h('h2', {}, 'Answer'), renderMarkdown(result.answer));
      }
      if (result.artifacts && result.artifacts.length) {
        artifacts.hidden = false;
        replace(artifacts, h('h2', {}, 'Artifacts'), h('ul', {}, result.artifacts.map((path) => {
          const b = h('button', { type: 'button', class: 'link' }, path);
          b.addEventListener('click', () => busy(b, () => download(`/api/workspace/files/${path.split('/').map(encodeURIComponent).join('/')}`), out));
          return h('li', {}, b);
        })));
      }
    }

    async function load() {
      try {
        task = await api(`/api/tasks/${encodeURIComponent(id)}`);
        render();
      } catch (err) {
        if (!task) { head.querySelector('h1').textContent = 'Task not found'; setTitle('Task not found'); }
        replace(out, errorBox(err));
      }
    }

    let reload = null;
    const onEvent = (data, name) => {
      if (data.task_id !== id || !task) return;
      Object.assign(task, { status: data.status ?? task.status, phase: data.phase, phase_reason: data.phase_reason,
        progress: data.progress ?? task.progress });
      renderStatus();
      if (data.plan) renderPlan(data.plan);
      if (data.step) { addStep(data.step); totals.textContent = `${seen.size} steps so far`; }
      if (name === 'task_completed' || !OPEN.has(task.status)) {
        clearTimeout(reload);
        reload = setTimeout(load, 150);  // the answer, totals and artifacts
      } else if (!task.started_at && data.phase && data.phase !== 'queued' && !reload) {
        reload = setTimeout(() => { reload = null; load(); }, 150);  // it started: its start time
      }
    };
    const offs = ['task_update', 'task_completed'].map((n) => live.on(n, onEvent));
    offs.push(live.on('approval_requested', (data) => {
      if (data.task_id === id && task && data.status === 'pending') approvals.add(data);
    }));
    offs.push(live.on('approval_decided', (data) => {
      if (data.task_id === id) approvals.remove(data.id || data.approval_id);
    }));
    load();
    return () => { offs.forEach((off) => off()); clearTimeout(reload); };
  },
};
