// Model endpoints: status, auto-sleep countdown, last error, wake and (admins) sleep.

import { api, isAdmin } from '../api.js';
import { badge, fmtDuration, fmtTime, h, replace } from '../dom.js';
import * as live from '../sse.js';
import { busy, errorBox, notice, pageHeader } from '../ui.js';

const NAMES = { '120b': 'gpt-oss-120b', '20b': 'gpt-oss-20b' };

function setupHelp(key) {
  const k = key.toUpperCase();
  return h('div', { class: 'alert warn' },
    h('strong', {}, 'No model configured.'), ' Set ',
    h('code', {}, `MODEL_${k}_BASE_URL`), ' (an OpenAI-compatible server such as vLLM or llama.cpp), optionally with ',
    h('code', {}, `MODEL_${k}_HF_ENDPOINT`), ' (a Hugging Face Inference Endpoint the service wakes and pauses) or ',
    h('code', {}, `MODEL_${k}_COMMAND`), ' (a local server it starts), then restart the service. See ',
    h('a', { href: 'https://github.com/crazy-gary/crazy-gary/blob/main/docs/endpoints.md', rel: 'noopener noreferrer', target: '_blank' }, 'docs/endpoints.md'),
    ' and docs/configuration.md.');
}

export default {
  title: 'Models',
  render(main) {
    const out = h('div', { 'aria-live': 'polite' });
    const grid = h('div', { class: 'cards' }, h('p', { class: 'muted' }, 'Loading…'));
    const countdowns = [];
    main.append(pageHeader('Models'), out, grid);

    function card(key, ep) {
      const cd = h('span');
      const facts = [
        ['Provider', ep.provider || '—'],
        ['Address', ep.url || '—'],
        ['Last activity', fmtTime(ep.last_activity)],
        ['Woke', fmtTime(ep.wake_time)],
        ['Slept', fmtTime(ep.sleep_time)],
        ['Auto-sleep in', cd],
      ];
      if (ep.auto_sleep_in !== null && ep.auto_sleep_in !== undefined) {
        countdowns.push({ el: cd, at: Date.now() + ep.auto_sleep_in * 1000 });
      } else cd.textContent = ep.manageable ? '—' : 'never (not managed)';
      const buttons = h('div', { class: 'actions' });
      if (ep.manageable && !['running', 'waking'].includes(ep.status)) {
        const wake = h('button', { type: 'button', class: 'primary' }, 'Wake');
        wake.addEventListener('click', () => busy(wake, async () => { await api(`/api/endpoints/wake/${key}`, { method: 'POST' }); await load(); }, out));
        buttons.append(wake);
      }
      if (ep.manageable && isAdmin() && ['running', 'waking'].includes(ep.status)) {
        const sleep = h('button', { type: 'button' }, 'Sleep');
        sleep.addEventListener('click', () => busy(sleep, async () => { await api(`/api/endpoints/sleep/${key}`, { method: 'POST' }); await load(); }, out));
        buttons.append(sleep);
      }
      const notConfigured = (!ep.provider || ep.provider === 'none') && !ep.url;
      return h('article', { class: 'card model', 'data-model': key },
        h('h2', {}, NAMES[key] || key, ' ', badge(ep.status)),
        notConfigured ? setupHelp(key) : null,
        ep.status === 'sleeping' && ep.manageable ? notice('Asleep: the next task or chat wakes it, or wake it now.', 'info') : null,
        ep.last_error && !notConfigured ? h('div', { class: 'alert error' }, h('strong', {}, 'Last error: '), ep.last_error) : null,
        h('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
        buttons);
    }

    async function load() {
      try {
        const data = await api('/api/endpoints/status');
        countdowns.length = 0;
        replace(grid, ...Object.entries(data.endpoints || {}).map(([k, ep]) => card(k, ep)));
        tick();
      } catch (err) {
        replace(grid, errorBox(err));
      }
    }
    function tick() {
      for (const c of countdowns) c.el.textContent = fmtDuration(Math.max(0, (c.at - Date.now()) / 1000));
    }
    const timer = setInterval(tick, 1000);
    const poll = setInterval(load, 120000);  // events bring changes; RATE_LIMIT_ENDPOINTS is 100/hour
    let pending = null;
    const off = live.on('endpoint_status', () => { clearTimeout(pending); pending = setTimeout(load, 100); });
    load();
    return () => { clearInterval(timer); clearInterval(poll); clearTimeout(pending); off(); };
  },
};
