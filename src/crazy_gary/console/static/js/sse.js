// Server-Sent Events read from a fetch() stream, so the token goes in a header, never a URL.

import { accessHeader, refreshAccess } from './api.js';

// Parse an event stream; calls onEvent({event, data, id}) per frame, onRetry(ms) for `retry:`.
export async function readEvents(resp, onEvent, onRetry) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + (buffer[cut] === '\r' ? 4 : 2));
      const parsed = { event: 'message', data: [], id: null };
      for (const line of frame.split(/\r?\n/)) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (name === 'data') parsed.data.push(val);
        else if (name === 'event') parsed.event = val;
        else if (name === 'id') parsed.id = val;
        else if (name === 'retry' && onRetry && /^\d+$/.test(val)) onRetry(Number(val));
      }
      if (parsed.data.length || parsed.id !== null) {
        onEvent({ event: parsed.event, data: parsed.data.join('\n'), id: parsed.id });
      }
    }
  }
}

// The console's one live connection: /api/observability/events/stream, reconnecting with
// Last-Event-ID after a drop so nothing published meanwhile is missed.
const listeners = new Map();
const statusListeners = new Set();
let lastEventId = null;
let controller = null;
let running = false;
let retryMs = 3000;
let state = 'offline';

export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}

export function onStatus(fn) { statusListeners.add(fn); fn(state); return () => statusListeners.delete(fn); }
function setState(next) { state = next; for (const fn of statusListeners) fn(next); }

function dispatch(frame) {
  if (frame.id) lastEventId = frame.id;
  let msg;
  try { msg = JSON.parse(frame.data); } catch { return; }
  for (const key of [msg.event, '*']) {
    for (const fn of listeners.get(key) || []) {
      try { fn(msg.data || {}, msg.event); } catch (err) { console.error(err); }
    }
  }
}

export function start() {
  if (running) return;
  running = true;
  loop();
}

export function stop() {
  running = false;
  lastEventId = null;
  if (controller) controller.abort();
  setState('offline');
}

// Drop the connection without forgetting where it was (tests use it to prove catch-up).
export function drop() { if (controller) controller.abort(); }

async function loop() {
  while (running) {
    controller = new AbortController();
    try {
      const headers = { ...accessHeader(), Accept: 'text/event-stream' };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const resp = await fetch('/api/observability/events/stream', { headers, signal: controller.signal });
      if (resp.status === 401) {
        await refreshAccess();  // expired access token: renew and reconnect at once
        continue;
      }
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      setState('live');
      await readEvents(resp, dispatch, (ms) => { retryMs = ms; });
    } catch (err) {
      if (err && err.status === 401) { running = false; break; }
    }
    if (!running) break;
    setState('reconnecting');
    await new Promise((r) => setTimeout(r, retryMs));
  }
  setState('offline');
}
