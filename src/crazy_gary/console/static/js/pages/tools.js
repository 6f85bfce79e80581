// The tool catalogue by client, schemas, a "try it" form per tool, MCP server status.

import { api, apiList } from '../api.js';
import { badge, debounce, fmtMs, fmtTime, h, json, replace } from '../dom.js';
import { schemaForm } from '../schemaform.js';
import { busy, empty, errorBox, pageHeader } from '../ui.js';

export default {
  title: 'Tools',
  render(main, _params, query) {
    const servers = h('div', { class: 'cards' }, h('p', { class: 'muted' }, 'Loading servers…'));
    const search = h('input', { type: 'search', placeholder: 'Search tools', 'aria-label': 'Search tools' });
    const catalogue = h('div', { class: 'catalogue' });
    const detail = h('section', { class: 'card tool-detail', 'aria-live': 'polite' },
      h('p', { class: 'muted' }, 'Pick a tool to see its schema and try it.'));
    main.append(pageHeader('Tools'), h('h2', {}, 'MCP servers'), servers,
      h('h2', {}, 'Catalogue'), h('div', { class: 'toolbar' }, search),
      h('div', { class: 'split' }, catalogue, detail));
    let all = [];

    function showTool(tool) {
      const form = schemaForm(tool.schema || {});
      const result = h('div', { 'aria-live': 'polite' });
      const run = h('button', { type: 'submit', class: 'primary' }, 'Run');
      const f = h('form', { class: 'try' }, form.fields, run, result);
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        busy(run, async () => {
          let parameters;
          try { parameters = form.value(); } catch (err) { replace(result, errorBox(err)); return; }
          const out = await api('/api/mcp/execute', { method: 'POST', body: { tool_name: tool.name, client_name: tool.client, parameters } });
          replace(result, h('div', { class: `alert ${out.success ? 'ok' : 'error'}`, role: 'status' },
            out.success ? 'Succeeded' : 'Failed', ` in ${fmtMs(out.latency_ms)}`),
          out.error ? h('pre', { class: 'output' }, out.error) : null,
          out.result !== undefined && out.result !== null ? json(out.result) : null);
        }, result);
      });
      replace(detail, h('h3', {}, `${tool.client}.${tool.name}`),
        h('p', {}, tool.description || ''),
        h('details', {}, h('summary', {}, 'Input schema'), json(tool.schema || {})),
        h('h4', {}, 'Try it'), f);
      const first = f.querySelector('input, select, textarea, button');
      if (first) first.focus();
    }

    function renderCatalogue(tools) {
      if (!tools.length) {
        replace(catalogue, empty(search.value ? 'No tool matches.' : 'No tools.', search.value ? 'Try other words.' : 'Configure MCP servers with MCP_CONFIG (docs/toolhub.md).'));
        return;
      }
      const byClient = new Map();
      for (const t of tools) { if (!byClient.has(t.client)) byClient.set(t.client, []); byClient.get(t.client).push(t); }
      replace(catalogue, ...[...byClient].map(([client, items]) => h('div', { class: 'card' },
        h('h3', {}, client, ' ', h('span', { class: 'muted' }, `(${items.length})`)),
        h('ul', { class: 'tool-list' }, items.map((t) => {
          const b = h('button', { type: 'button', class: 'link', 'data-tool': `${t.client}.${t.name}` }, t.name);
          b.addEventListener('click', () => showTool(t));
          return h('li', {}, b, h('span', { class: 'muted' }, ` ${(t.description || '').split('\n')[0].slice(0, 90)}`));
        })))));
    }

    async function loadStatus() {
      try {
        const st = await api('/api/mcp/status');
        const clients = Object.entries(st.clients || {});
        replace(servers, ...clients.map(([name, c]) => h('article', { class: 'card server' },
          h('h3', {}, name, ' ', badge(c.status)),
          c.status !== 'connected' && c.last_error ? h('div', { class: 'alert error' }, `Down: ${c.last_error}`, c.last_error_at ? ` (${fmtTime(c.last_error_at)})` : '') : null,
          h('dl', { class: 'facts' },
            h('dt', {}, 'Transport'), h('dd', {}, c.transport || '—'),
            h('dt', {}, 'Tools'), h('dd', {}, String(c.tool_count ?? '—')),
            h('dt', {}, 'Reconnects'), h('dd', {}, String(c.reconnects ?? 0)),
            h('dt', {}, 'Connected since'), h('dd', {}, fmtTime(c.connected_since)),
            h('dt', {}, 'Last call'), h('dd', {}, fmtMs(c.last_call_latency_ms))))));
        if (!clients.length) servers.append(empty('Only the built-in workspace tools.', 'Add MCP servers in an mcp.json named by MCP_CONFIG.'));
      } catch (err) { replace(servers, errorBox(err)); }
    }

    async function loadTools() {
      try {
        all = await apiList('/api/mcp/tools', 1000);
        renderCatalogue(all);
        const wanted = query.get('tool');
        const tool = wanted && all.find((t) => `${t.client}.${t.name}` === wanted);
        if (tool) showTool(tool);
      } catch (err) { replace(catalogue, errorBox(err)); }
    }

    search.addEventListener('input', debounce(async () => {
      const q = search.value.trim();
      if (!q) { renderCatalogue(all); return; }
      try { renderCatalogue(await api(`/api/mcp/tools/search?query=${encodeURIComponent(q)}&limit=50`)); } catch (err) { replace(catalogue, errorBox(err)); }
    }, 200));
    loadStatus();
    loadTools();
    const poll = setInterval(loadStatus, 60000);
    return () => clearInterval(poll);
  },
};
