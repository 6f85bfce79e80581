// Tool approvals (docs/approvals.md): a card per pending approval with its decision
// controls, a keyed list of cards (a live refresh never wipes what a person is editing),
// and the pending count shown on the menu.

import { api, request } from './api.js';
import { debounce, field, fmtTime, h, replace } from './dom.js';
import * as live from './sse.js';
import { busy, errorBox, link, notice } from './ui.js';

function pretty(value) { return JSON.stringify(value ?? {}, null, 2); }

// Canonical JSON (sorted keys): editing only the layout is not an edit.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// One pending approval. `onDecided(approval)` runs after the server accepted a decision;
// a refusal (400 schema mismatch, 409 already decided or expired) is shown inside the card
// and the edited arguments and comment stay as they were.
export function approvalCard(approval, { onDecided, showTask = true } = {}) {
  const args = h('textarea', { name: 'arguments', rows: String(Math.min(14, Math.max(3, pretty(approval.arguments).split('\n').length + 1))), spellcheck: 'false', class: 'mono' });
  args.value = pretty(approval.arguments);
  const comment = h('input', { type: 'text', name: 'comment', maxlength: '2000', placeholder: 'Optional: why (the model reads it when you deny)' });
  const out = h('div', { class: 'approval-out', 'aria-live': 'polite' });
  const approve = h('button', { type: 'button', class: 'primary', 'data-decision': 'approve' }, 'Approve');
  const deny = h('button', { type: 'button', class: 'danger', 'data-decision': 'deny' }, 'Deny');
  const taskId = approval.task_id;

  async function decide(decision, button) {
    const body = { decision };
    if (comment.value.trim()) body.comment = comment.value.trim();
    if (decision === 'approve') {
      let edited;
      try { edited = JSON.parse(args.value); } catch (err) {
        replace(out, errorBox({ message: `The arguments are not valid JSON: ${err.message}` }));
        args.focus();
        return;
      }
      if (!edited || typeof edited !== 'object' || Array.isArray(edited)) {
        replace(out, errorBox({ message: 'The arguments must be a JSON object.' }));
        args.focus();
        return;
      }
      if (canonical(edited) !== canonical(approval.arguments ?? {})) body.arguments = edited;
    }
    card.dataset.deciding = decision;  // a live event must not take the card away meanwhile
    await busy(button, async () => {
      const decided = await api(`/api/approvals/${encodeURIComponent(approval.id)}`, { method: 'POST', body });
      approve.disabled = true; deny.disabled = true;
      card.dataset.decided = decided.status;
      replace(out, notice(`${decided.status === 'approved' ? 'Approved' : 'Denied'}${body.arguments ? ' with edited arguments' : ''}.`, 'ok'));
      if (onDecided) onDecided(decided);
    }, out);
    delete card.dataset.deciding;
    if (card.dataset.decided) { approve.disabled = true; deny.disabled = true; }
  }
  approve.addEventListener('click', () => decide('approve', approve));
  deny.addEventListener('click', () => decide('deny', deny));

  const card = h('article', { class: 'card approval', 'data-approval': approval.id, 'aria-label': `Approval for ${approval.tool}` },
    h('div', { class: 'approval-head' },
      h('code', { class: 'tool' }, approval.tool || ''),
      showTask && taskId ? h('span', {}, 'in ', link(`/tasks/${encodeURIComponent(taskId)}`, approval.task_title || taskId)) : null),
    approval.reason ? h('blockquote', { class: 'reason' }, approval.reason) : null,
    h('dl', { class: 'facts inline' },
      h('dt', {}, 'Requested'), h('dd', {}, fmtTime(approval.requested_at)),
      h('dt', {}, 'Expires'), h('dd', {}, fmtTime(approval.expires_at))),
    field('Arguments (JSON; edit before approving to run it differently)', args),
    field('Comment', comment),
    out,
    h('div', { class: 'actions' }, approve, deny));
  return card;
}

// Cards kept by approval id: `sync(list)` adds the new ones and removes the ones no longer
// pending, leaving the others (and what is typed in them) alone.
export function approvalList(container, options = {}) {
  const cards = new Map();
  const removeLater = (id) => setTimeout(() => { const c = cards.get(id); if (c) { c.remove(); cards.delete(id); options.onChange?.(cards.size); } }, options.linger ?? 1500);
  const opts = { ...options, onDecided: (decided) => { removeLater(decided.id); options.onDecided?.(decided); } };
  function add(approval, { first = false } = {}) {
    if (cards.has(approval.id)) return;
    const card = approvalCard(approval, opts);
    cards.set(approval.id, card);
    if (first) container.prepend(card); else container.append(card);
    options.onChange?.(cards.size);
  }
  // A card decided here stays a moment to show the outcome (removeLater takes it away).
  function remove(id) {
    const card = cards.get(id);
    if (!card || card.dataset.decided || card.dataset.deciding) return;
    card.remove();
    cards.delete(id);
    options.onChange?.(cards.size);
  }
  function sync(list) {
    const ids = new Set(list.map((a) => a.id));
    for (const [id, card] of [...cards]) if (!ids.has(id)) remove(id);
    for (const a of list) add(a);
    options.onChange?.(cards.size);
  }
  return { add, remove, sync, has: (id) => cards.has(id), get size() { return cards.size; } };
}

// The number of the user's pending approvals, kept current from the live events.
const countListeners = new Set();
let pendingCount = null;
let watching = null;

async function refreshCount() {
  try {
    const resp = await request('/api/approvals?status=pending&limit=1');
    const total = Number(resp.headers.get('X-Total-Count'));
    pendingCount = Number.isFinite(total) ? total : (await resp.json()).length;
  } catch { return; }
  for (const fn of countListeners) fn(pendingCount);
}

export function onPendingCount(fn) {
  countListeners.add(fn);
  if (pendingCount !== null) fn(pendingCount);
  if (!watching) {
    const again = debounce(refreshCount, 200);
    const offs = [live.on('approval_requested', again), live.on('approval_decided', again),
      live.onStatus((state) => { if (state === 'live') again(); })];
    watching = () => offs.forEach((off) => off());
  }
  refreshCount();
  return () => {
    countListeners.delete(fn);
    if (!countListeners.size && watching) { watching(); watching = null; pendingCount = null; }
  };
}
