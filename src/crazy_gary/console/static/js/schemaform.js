// A form generated from a tool's JSON Schema (object with properties), and its value.

import { h, field } from './dom.js';

function control(name, prop, required) {
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
  const common = { name, required: required || null, 'aria-describedby': null };
  if (prop.enum) {
    return { type: 'enum', el: h('select', common, required ? null : h('option', { value: '' }, '—'),
      prop.enum.map((v) => h('option', { value: JSON.stringify(v), selected: JSON.stringify(v) === JSON.stringify(prop.default) }, String(v)))) };
  }
  if (type === 'boolean') return { type, el: h('input', { ...common, type: 'checkbox', required: null, checked: prop.default === true }) };
  if (type === 'integer' || type === 'number') {
    return { type, el: h('input', { ...common, type: 'number', step: type === 'integer' ? '1' : 'any',
      min: prop.minimum, max: prop.maximum, value: prop.default ?? null }) };
  }
  if (type === 'string' || !type) {
    return { type: 'string', el: h('input', { ...common, type: 'text', value: prop.default ?? null }) };
  }
  return { type: 'json', el: h('textarea', { ...common, rows: '3', placeholder: type === 'array' ? '[ ]' : '{ }' },
    prop.default !== undefined ? JSON.stringify(prop.default) : null) };
}

export function schemaForm(schema) {
  const props = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  const controls = [];
  const fields = Object.entries(props).map(([name, prop]) => {
    const c = control(name, prop || {}, required.has(name));
    controls.push({ name, ...c });
    const label = `${name}${required.has(name) ? ' *' : ''}`;
    const hint = [prop && prop.description, c.type === 'json' ? 'JSON' : null].filter(Boolean).join(' — ');
    return field(label, c.el, hint || null);
  });
  const value = () => {
    const out = {};
    for (const c of controls) {
      if (c.type === 'boolean') { out[c.name] = c.el.checked; continue; }
      const raw = c.el.value;
      if (raw === '') continue;
      if (c.type === 'enum') out[c.name] = JSON.parse(raw);
      else if (c.type === 'integer' || c.type === 'number') out[c.name] = Number(raw);
      else if (c.type === 'json') {
        try { out[c.name] = JSON.parse(raw); } catch { throw new Error(`${c.name}: not valid JSON`); }
      } else out[c.name] = raw;
    }
    return out;
  };
  return { fields: fields.length ? fields : [h('p', { class: 'muted' }, 'This tool takes no parameters.')], value };
}
