import { api } from '../api.js';
import { field, h } from '../dom.js';
import { busy, navigate, pageHeader } from '../ui.js';

export default {
  title: 'New task',
  render(main) {
    const title = h('input', { type: 'text', name: 'title', required: true, maxlength: '200' });
    const description = h('textarea', { name: 'description', rows: '6', required: true, maxlength: '20000' });
    const model = h('select', { name: 'model' }, h('option', { value: 'gpt-oss-120b' }, 'gpt-oss-120b'),
      h('option', { value: 'gpt-oss-20b' }, 'gpt-oss-20b'));
    const priority = h('select', { name: 'priority' }, ['low', 'medium', 'high', 'critical'].map((p) =>
      h('option', { value: p, selected: p === 'medium' }, p)));
    const maxSteps = h('input', { type: 'number', name: 'max_steps', min: '1', max: '200', placeholder: '20' });
    const budget = h('input', { type: 'number', name: 'token_budget', min: '100', placeholder: '200000' });
    const tools = h('input', { type: 'text', name: 'tools', placeholder: 'workspace.*, time.get_current_time' });
    const start = h('input', { type: 'checkbox', name: 'auto_start', checked: true });
    const out = h('div', { 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create task');
    const form = h('form', { class: 'card form-grid' },
      field('Title', title), field('Description', description, 'What the agent should do. Plain text or Markdown.'),
      h('div', { class: 'row' }, field('Model', model), field('Priority', priority)),
      h('div', { class: 'row' }, field('Max steps', maxSteps, 'Model turns after the plan (default 20).'),
        field('Token budget', budget, 'Total tokens before the task fails.')),
      field('Tool allow-list', tools, 'Comma-separated: client.tool, client.* or a tool name. Empty: every tool.'),
      h('label', { class: 'check' }, start, ' Start at once'), out, submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(submit, async () => {
        const body = { title: title.value, description: description.value, model: model.value,
          priority: priority.value, auto_start: start.checked };
        if (maxSteps.value) body.max_steps = Number(maxSteps.value);
        if (budget.value) body.token_budget = Number(budget.value);
        const list = tools.value.split(',').map((t) => t.trim()).filter(Boolean);
        if (list.length) body.tools = list;
        const created = await api('/api/tasks', { method: 'POST', body });
        navigate(`/tasks/${encodeURIComponent(created.task_id)}`);
      }, out);
    });
    main.append(pageHeader('New task'), form);
    title.focus();
  },
};
