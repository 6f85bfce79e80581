// Chat: streamed answers token by token; each turn links to the task that recorded it.
// The API keeps turns as tasks but has no conversation listing, so this browser remembers
// which task ids belong to which conversation (localStorage, ids and your messages only).

import { api, request, user } from '../api.js';
import { clear, h, replace } from '../dom.js';
import { renderMarkdown } from '../markdown.js';
import { readEvents } from '../sse.js';
import { ApiError } from '../api.js';
import { empty, errorBox, pageHeader } from '../ui.js';

const key = () => `crazy-gary.conversations.${user().id}`;
function loadConversations() {
  try { return JSON.parse(localStorage.getItem(key())) || []; } catch { return []; }
}
function saveConversations(list) { localStorage.setItem(key(), JSON.stringify(list.slice(0, 50))); }

function taskLink(taskId) {
  return h('a', { href: `/tasks/${encodeURIComponent(taskId)}`, 'data-link': '', class: 'task-link' }, 'task ›');
}

export default {
  title: 'Chat',
  render(main, _params, query) {
    let conversations = loadConversations();
    let current = conversations.find((c) => c.id === query.get('conversation')) || null;
    let controller = null;
    const list = h('ul', { class: 'conv-list' });
    const log = h('div', { class: 'chat-log', 'aria-live': 'polite' });
    const input = h('textarea', { rows: '3', placeholder: 'Ask something…', 'aria-label': 'Message', required: true });
    const model = h('select', { 'aria-label': 'Model' }, h('option', { value: 'gpt-oss-20b' }, 'gpt-oss-20b'), h('option', { value: 'gpt-oss-120b' }, 'gpt-oss-120b'));
    const tools = h('input', { type: 'checkbox' });
    const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
    const stop = h('button', { type: 'button', hidden: true }, 'Stop');
    const form = h('form', { class: 'composer' }, input, h('div', { class: 'composer-bar' }, model,
      h('label', { class: 'check', title: 'An agent turn that may call tools; the answer arrives whole.' }, tools, ' Use tools'), stop, send));
    const newButton = h('button', { type: 'button' }, 'New conversation');
    main.append(pageHeader('Chat', newButton), h('div', { class: 'chat' },
      h('aside', { class: 'card conversations' }, h('h2', {}, 'Conversations'), list),
      h('section', { class: 'card chat-main' }, log, form)));

    function renderList() {
      replace(list, ...conversations.map((c) => {
        const a = h('a', { href: `/chat?conversation=${encodeURIComponent(c.id)}`, 'data-link': '',
          'aria-current': current && c.id === current.id ? 'page' : null }, c.title);
        return h('li', {}, a);
      }));
      if (!conversations.length) list.append(h('li', { class: 'muted' }, 'None yet.'));
    }

    function bubble(role, content, taskId) {
      const body = h('div', { class: 'bubble-body' }, content);
      const el = h('div', { class: `bubble ${role}` }, h('div', { class: 'who' }, role === 'user' ? 'You' : 'Gary', taskId ? [' · ', taskLink(taskId)] : null), body);
      log.append(el);
      log.scrollTop = log.scrollHeight;
      return { el, body };
    }

    async function openConversation() {
      clear(log);
      if (!current) {
        log.append(empty('Start a conversation.', 'Answers stream in as the model writes them. Tick “Use tools” for an agent turn that can use the tool hub.'));
        return;
      }
      for (const turn of current.turns) {
        bubble('user', turn.message);
        const reply = bubble('assistant', h('span', { class: 'muted' }, 'Loading…'), turn.task_id);
        api(`/api/tasks/${encodeURIComponent(turn.task_id)}`).then((t) => {
          const text = t.result && t.result.answer;
          replace(reply.body, text ? renderMarkdown(text) : h('span', { class: 'muted' }, t.error ? t.error.message : `(${t.status})`));
        }).catch((err) => replace(reply.body, errorBox(err)));
      }
    }

    function remember(conversationId, message, taskId) {
      if (!current || current.id !== conversationId) {
        current = { id: conversationId, title: message.slice(0, 60), turns: [] };
        conversations.unshift(current);
        window.history.replaceState({}, '', `/chat?conversation=${encodeURIComponent(conversationId)}`);
      }
      current.turns.push({ message, task_id: taskId });
      conversations = [current, ...conversations.filter((c) => c !== current)];
      saveConversations(conversations);
      renderList();
    }

    async function streamTurn(message, reply) {
      const body = { message, model: model.value };
      if (current) body.conversation_id = current.id;
      controller = new AbortController();
      const resp = await request('/api/chat/stream', { method: 'POST', body, signal: controller.signal });
      let text = '';
      const textNode = document.createTextNode('');
      replace(reply.body, textNode);
      let started = null;
      await readEvents(resp, (frame) => {
        const data = JSON.parse(frame.data || '{}');
        if (frame.event === 'start') started = data;
        else if (frame.event === 'token') { text += data.delta || ''; textNode.data = text; log.scrollTop = log.scrollHeight; }
        else if (frame.event === 'done') {
          replace(reply.body, renderMarkdown(data.response ?? text));
          reply.el.querySelector('.who').append(' · ', taskLink(data.task_id));
          remember(data.conversation_id, message, data.task_id);
          started = null;
        } else if (frame.event === 'error') {
          replace(reply.body, text ? renderMarkdown(text) : '', errorBox(new ApiError(503, { error: data.message, code: data.code })));
          if (started) remember(started.conversation_id, message, started.task_id);
          started = null;
        }
      });
    }

    async function agentTurn(message, reply) {
      const body = { message, model: model.value };
      if (current) body.conversation_id = current.id;
      const out = await api('/api/chat', { method: 'POST', body });
      replace(reply.body, renderMarkdown(out.response));
      reply.el.querySelector('.who').append(' · ', taskLink(out.task_id));
      remember(out.conversation_id, message, out.task_id);
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const message = input.value.trim();
      if (!message) return;
      if (!current) clear(log);
      input.value = '';
      bubble('user', message);
      const reply = bubble('assistant', h('span', { class: 'muted typing' }, 'Thinking…'));
      send.disabled = true; stop.hidden = tools.checked;
      try {
        if (tools.checked) await agentTurn(message, reply);
        else await streamTurn(message, reply);
      } catch (err) {
        if (err.name === 'AbortError') reply.body.append(h('p', { class: 'muted' }, '(stopped)'));
        else replace(reply.body, errorBox(err));
      } finally {
        send.disabled = false; stop.hidden = true; controller = null;
        input.focus();
      }
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    });
    stop.addEventListener('click', () => { if (controller) controller.abort(); });
    newButton.addEventListener('click', () => {
      current = null;
      window.history.replaceState({}, '', '/chat');
      renderList(); openConversation(); input.focus();
    });
    renderList();
    openConversation();
    return () => { if (controller) controller.abort(); };
  },
};
