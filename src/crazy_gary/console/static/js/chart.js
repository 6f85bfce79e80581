// Small inline SVG line charts (no library): one series over time.

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// points: [{t: ms, v: number}], newest last.
export function lineChart(points, { title, unit = '', digits = 1, max } = {}) {
  const W = 300; const H = 90; const P = 4;
  const figure = document.createElement('figure');
  figure.className = 'chart';
  const caption = document.createElement('figcaption');
  const last = points.length ? points[points.length - 1].v : null;
  caption.append(document.createTextNode(title), document.createElement('br'));
  const now = document.createElement('strong');
  now.textContent = last === null ? 'no data yet' : `${last.toFixed(digits)}${unit}`;
  caption.append(now);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title} over time` });
  root.append(svg('rect', { x: 0, y: 0, width: W, height: H, class: 'chart-bg' }));
  if (points.length > 1) {
    const t0 = points[0].t; const t1 = points[points.length - 1].t;
    const top = Math.max(max ?? 0, ...points.map((p) => p.v), 1e-9);
    const x = (t) => P + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * P);
    const y = (v) => H - P - (v / top) * (H - 2 * P);
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    root.append(svg('path', { d: `${d} L${x(t1).toFixed(1)},${H - P} L${x(t0).toFixed(1)},${H - P} Z`, class: 'chart-area' }));
    root.append(svg('path', { d, class: 'chart-line' }));
    const label = svg('text', { x: W - P, y: 12, 'text-anchor': 'end', class: 'chart-max' });
    label.textContent = `max ${top.toFixed(digits)}${unit}`;
    root.append(label);
  }
  if (points.length === 1) root.append(svg('circle', { cx: W / 2, cy: H / 2, r: 3, class: 'chart-dot' }));
  figure.append(root, caption);
  return figure;
}
