// Pending tool approvals: decide each (approve, possibly with edited arguments, or deny
// with a comment); new ones appear and decided ones leave live.

import { api, apiList } from '../api.js';
import { h, replace } from '../dom.js';
import { approvalList } from '../approvals.js';
import * as live from '../sse.js';
import { empty, errorBox, pageHeader } from '../ui.js';

export default {
  title: 'Approvals',
  render(main) {
    const count = h('span', { class: 'muted', 'aria-live': 'polite' });
    const out = h('div');
    const holder = h('div', { class: 'approvals' });
    const none = empty('Nothing waits for you', 'When a task wants to run a tool its policy puts to a person, the call appears here.');
    none.hidden = true;
    const titles = new Map();
    let loaded = false;

    // The task titles, one request per task (the approval carries only the task id).
    async function titleFor(taskId) {
      if (!titles.has(taskId)) {
        titles.set(taskId, api(`/api/tasks/${encodeURIComponent(taskId)}`).then((t) => t.title).catch(() => null));
      }
      const title = await titles.get(taskId);
      if (!title) return;
      for (const a of holder.querySelectorAll(`[data-approval] a[href="/tasks/${CSS.escape(encodeURIComponent(taskId))}"]`)) a.textContent = title;
    }

    const list = approvalList(holder, {
      onChange: (n) => {
        if (!loaded) return;
        count.textContent = n === 1 ? '1 pending' : `${n} pending`;
        none.hidden = n > 0;
      },
    });
    main.append(pageHeader('Approvals'), h('div', { class: 'toolbar' }, count), out, none, holder);

    async function load() {
      try {
        const pending = await apiList('/api/approvals?status=pending');
        loaded = true;
        list.sync(pending);
        for (const id of new Set(pending.map((a) => a.task_id))) titleFor(id);
      } catch (err) {
        replace(out, errorBox(err));
      }
    }

    const offs = [
      live.on('approval_requested', (data) => {
        if (!loaded || data.status !== 'pending') return;
        list.add(data, { first: true });
        titleFor(data.task_id);
      }),
      // Decided elsewhere (another tab, the API, an expiry, a stop): the card goes.
      live.on('approval_decided', (data) => { list.remove(data.id || data.approval_id); }),
      // After a reconnect the list may have missed events: read it again.
      live.onStatus((state) => { if (state === 'live' && loaded) load(); }),
    ];
    load();
    return () => offs.forEach((off) => off());
  },
};
