import * as auth from '../api.js';
import { field, fmtTime, h, replace } from '../dom.js';
import { busy, navigate, notice, pageHeader } from '../ui.js';

export default {
  title: 'Account',
  render(main) {
    const u = auth.user();
    const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
    const next = h('input', { type: 'password', autocomplete: 'new-password', required: true });
    const out = h('div', { 'aria-live': 'polite' });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Change password');
    const form = h('form', { class: 'card' }, h('h2', {}, 'Change password'),
      field('Current password', current), field('New password', next, 'Signs out every other session.'),
      out, save);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(save, async () => {
        await auth.changePassword(current.value, next.value);
        form.reset();
        replace(out, notice('Password changed. Other sessions are signed out.', 'ok'));
      }, out);
    });
    const signOut = h('button', { type: 'button', onclick: async () => { await auth.logout(); navigate('/login'); } }, 'Sign out');
    main.append(
      pageHeader('Account', signOut),
      h('dl', { class: 'card facts' },
        h('dt', {}, 'Name'), h('dd', {}, u.name || '—'),
        h('dt', {}, 'Email'), h('dd', {}, u.email),
        h('dt', {}, 'Username'), h('dd', {}, u.username || '—'),
        h('dt', {}, 'Role'), h('dd', {}, u.role || 'user'),
        h('dt', {}, 'Member since'), h('dd', {}, fmtTime(u.created_at))),
      form);
  },
};
