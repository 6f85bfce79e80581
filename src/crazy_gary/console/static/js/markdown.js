// A small Markdown renderer that builds DOM nodes (never HTML strings): headings, lists,
// block quotes, fenced code, inline code, emphasis, and links limited to http, https, mailto.

import { h } from './dom.js';

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

export function safeHref(raw) {
  try {
    const url = new URL(raw.trim());
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function link(text, href) {
  const safe = safeHref(href);
  if (!safe) return document.createTextNode(text === href ? text : `${text} (${href})`);
  // Link text stays plain: formatting it again could link a URL inside the link, forever.
  return h('a', { href: safe, rel: 'noopener noreferrer', target: '_blank' }, text);
}

// Bounded pieces (no lazy spans over the whole text): long model output stays linear-ish.
const INLINE = /(`{1,3})([^`]{1,2000}?)\1(?!`)|\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)|\*\*([^*\n]{1,500})\*\*|__([^_\n]{1,500})__|\*([^*\n]{1,500})\*|\b_([^_\n]{1,500})_\b|(https?:\/\/[^\s<>()]{1,2000}[^\s<>().,;:!?'"])/;

export function inline(text) {
  const out = [];
  let rest = text;
  while (rest) {
    const m = INLINE.exec(rest);
    if (!m) { out.push(document.createTextNode(rest)); break; }
    if (m.index) out.push(document.createTextNode(rest.slice(0, m.index)));
    if (m[1]) out.push(h('code', {}, m[2]));
    else if (m[3]) out.push(link(m[3], m[4]));
    else if (m[5] || m[6]) out.push(h('strong', {}, inline(m[5] || m[6])));
    else if (m[7] || m[8]) out.push(h('em', {}, inline(m[7] || m[8])));
    else if (m[9]) out.push(link(m[9], m[9]));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

const LIST_ITEM = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/;

export function renderMarkdown(source) {
  const root = h('div', { class: 'md' });
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (fence) {
      const body = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) { body.push(lines[i]); i += 1; }
      i += 1;
      const code = h('code', {}, body.join('\n'));
      if (fence[2]) code.dataset.lang = fence[2];
      root.append(h('pre', { class: 'code' }, code));
      continue;
    }
    if (!line.trim()) { i += 1; continue; }
    const heading = /^(#{1,6})\s+(.*?)\s*#*$/.exec(line);
    if (heading) {
      root.append(h(`h${Math.min(6, heading[1].length + 2)}`, {}, inline(heading[2])));
      i += 1;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { root.append(h('hr')); i += 1; continue; }
    if (/^\s*>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) { body.push(lines[i].replace(/^\s*>\s?/, '')); i += 1; }
      root.append(h('blockquote', {}, renderMarkdown(body.join('\n'))));
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[2]);
      const list = h(ordered ? 'ol' : 'ul');
      if (ordered && parseInt(item[2], 10) !== 1) list.setAttribute('start', String(parseInt(item[2], 10)));
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i]);
        if (!m || /\d/.test(m[2]) !== ordered) break;
        const parts = [m[3]];
        i += 1;
        while (i < lines.length && lines[i].trim() && !LIST_ITEM.exec(lines[i]) && /^\s+/.test(lines[i])) {
          parts.push(lines[i].trim());
          i += 1;
        }
        list.append(h('li', {}, inline(parts.join(' '))));
      }
      root.append(list);
      continue;
    }
    const para = [line.trim()];
    i += 1;
    while (i < lines.length && lines[i].trim() && !/^\s*(```|~~~|#{1,6}\s|>)/.test(lines[i]) && !LIST_ITEM.exec(lines[i])) {
      para.push(lines[i].trim());
      i += 1;
    }
    root.append(h('p', {}, inline(para.join(' '))));
  }
  return root;
}
