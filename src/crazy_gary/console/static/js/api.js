// The API client: bearer tokens, refresh on expiry, errors with their request id.
// The access token lives only in memory; the refresh token in sessionStorage (see
// docs/console.md, "How it authenticates").

const REFRESH_KEY = 'crazy-gary.refresh';
let accessToken = null;
let refreshTimer = null;
let refreshing = null;
let currentUser = null;
const authListeners = new Set();

export class ApiError extends Error {
  constructor(status, body, requestId) {
    super((body && body.error) || `Request failed (HTTP ${status})`);
    this.status = status;
    this.code = (body && body.code) || 'HTTP_' + status;
    this.details = (body && body.details) || {};
    this.requestId = (body && body.request_id) || requestId || null;
  }
}

export function user() { return currentUser; }
export function isAdmin() { return !!currentUser && currentUser.role === 'admin'; }
export function accessHeader() { return accessToken ? { Authorization: `Bearer ${accessToken}` } : {}; }
export function onAuthChange(fn) { authListeners.add(fn); return () => authListeners.delete(fn); }
function notify() { for (const fn of authListeners) fn(currentUser); }

function adopt(tokens) {
  accessToken = tokens.token;
  if (tokens.refresh_token) sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  clearTimeout(refreshTimer);
  // Renew a minute before expiry so a long page visit never meets an expired token.
  const life = tokens.expires_in || 3600;
  const lead = Math.max(5, life > 240 ? life - 60 : life * 0.75) * 1000;
  refreshTimer = setTimeout(() => { refreshAccess().catch(() => {}); }, lead);
}

function forget() {
  accessToken = null;
  currentUser = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
}

async function errorFrom(resp) {
  let body = null;
  try { body = await resp.json(); } catch { body = null; }
  return new ApiError(resp.status, body, resp.headers.get('X-Request-ID'));
}

// One refresh at a time: refresh tokens rotate and a spent one revokes its family.
export function refreshAccess() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = sessionStorage.getItem(REFRESH_KEY);
      if (!token) throw new ApiError(401, { error: 'Not signed in', code: 'AUTH_REQUIRED' });
      const resp = await fetch('/api/auth/refresh', {
        method: 'POST', headers: { Authorization: `Bearer ${token}` },
      });
      if (!resp.ok) {
        const err = await errorFrom(resp);
        if (resp.status === 401) { forget(); notify(); }
        throw err;
      }
      adopt(await resp.json());
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

// fetch() with the bearer token; on TOKEN_EXPIRED it refreshes once and retries.
export async function request(path, { method = 'GET', body, form, headers = {}, signal } = {}) {
  const attempt = () => {
    const h = { ...accessHeader(), ...headers };
    let payload;
    if (form) payload = form;
    else if (body !== undefined) { h['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    return fetch(path, { method, headers: h, body: payload, signal });
  };
  if (!accessToken && sessionStorage.getItem(REFRESH_KEY)) await refreshAccess();
  let resp = await attempt();
  if (resp.status === 401) {
    const err = await errorFrom(resp.clone());
    if (err.code === 'TOKEN_EXPIRED' && sessionStorage.getItem(REFRESH_KEY)) {
      await refreshAccess();
      resp = await attempt();
    } else if (err.code === 'AUTH_REQUIRED' || err.code === 'TOKEN_EXPIRED') {
      forget(); notify();  // the session is over (revoked, or the refresh failed)
    }
  }
  if (!resp.ok) throw await errorFrom(resp);
  return resp;
}

export async function api(path, options) {
  const resp = await request(path, options);
  if (resp.status === 204) return null;
  return resp.json();
}

// A paginated list: every page up to `max` items (pages of 100).
export async function apiList(path, max = 500) {
  const items = [];
  const sep = path.includes('?') ? '&' : '?';
  while (items.length < max) {
    const resp = await request(`${path}${sep}limit=100&offset=${items.length}`);
    const page = await resp.json();
    items.push(...page);
    if (resp.headers.get('X-Has-More') !== 'true' || page.length === 0) break;
  }
  return items;
}

async function signedIn(tokens) {
  adopt(tokens);
  currentUser = tokens.user || (await api('/api/auth/me')).user;
  if (!currentUser.role) currentUser = (await api('/api/auth/me')).user;
  notify();
  return currentUser;
}

export async function login(email, password) {
  const resp = await fetch('/api/auth/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!resp.ok) throw await errorFrom(resp);
  return signedIn(await resp.json());
}

export async function register(email, password, fullName) {
  const resp = await fetch('/api/auth/register', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, fullName: fullName || undefined }),
  });
  if (!resp.ok) throw await errorFrom(resp);
  return signedIn(await resp.json());
}

export async function changePassword(current, next) {
  const out = await api('/api/auth/change-password', {
    method: 'POST', body: { current_password: current, new_password: next },
  });
  if (out.token) adopt(out);  // the change ends every other session, not this one
  return out;
}

export async function logout() {
  try { await api('/api/auth/logout', { method: 'POST' }); } catch { /* signed out anyway */ }
  forget();
  notify();
}

// On page load: a refresh token of this tab's session signs back in without a form.
export async function restore() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return null;
  try {
    await refreshAccess();
    currentUser = (await api('/api/auth/me')).user;
    notify();
    return currentUser;
  } catch {
    forget();
    return null;
  }
}

// Download an authenticated file without putting a token in a URL.
export async function download(path, filename) {
  const resp = await request(path);
  const url = URL.createObjectURL(await resp.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename || path.split('/').pop();
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
