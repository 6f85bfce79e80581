// Users (admins): create, change role, delete.

import { api, apiList, isAdmin, user } from '../api.js';
import { field, fmtTime, h, replace } from '../dom.js';
import { busy, empty, errorBox, notice, pageHeader } from '../ui.js';

export default {
  title: 'Admin',
  render(main) {
    main.append(pageHeader('Users'));
    if (!isAdmin()) {
      main.append(empty('Administrators only.', 'Ask an administrator, or create one with `crazy-gary create-admin`.'));
      return;
    }
    const out = h('div', { 'aria-live': 'polite' });
    const username = h('input', { type: 'text', required: true, minlength: '3', maxlength: '64', pattern: '[A-Za-z0-9_.\\-]+' });
    const email = h('input', { type: 'email', required: true });
    const name = h('input', { type: 'text' });
    const password = h('input', { type: 'password', autocomplete: 'new-password' });
    const role = h('select', {}, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
    const create = h('button', { type: 'submit', class: 'primary' }, 'Create user');
    const form = h('form', { class: 'card' }, h('h2', {}, 'New user'),
      h('div', { class: 'row' }, field('Username', username), field('Email', email), field('Name', name)),
      h('div', { class: 'row' }, field('Password', password, 'Empty: the account cannot sign in until one is set.'), field('Role', role)),
      create);
    const list = h('div', { class: 'table-wrap' });
    main.append(form, out, list);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      busy(create, async () => {
        const body = { username: username.value, email: email.value, role: role.value };
        if (name.value) body.name = name.value;
        if (password.value) body.password = password.value;
        const made = await api('/api/users', { method: 'POST', body });
        form.reset();
        replace(out, notice(`Created ${made.username}.`, 'ok'));
        await load();
      }, out);
    });

    async function load() {
      let users;
      try { users = await apiList('/api/users', 1000); } catch (err) { replace(list, errorBox(err)); return; }
      replace(list, h('table', {}, h('thead', {}, h('tr', {}, ['User', 'Email', 'Role', 'Created', 'Last sign-in', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, users.map((u) => {
          const sel = h('select', { 'aria-label': `Role of ${u.username}` }, ['user', 'admin'].map((r) => h('option', { value: r, selected: r === u.role }, r)));
          sel.addEventListener('change', () => busy(sel, async () => {
            await api(`/api/users/${u.id}`, { method: 'PUT', body: { role: sel.value } });
            replace(out, notice(`${u.username} is now ${sel.value}.`, 'ok'));
          }, out).then(load));
          const del = h('button', { type: 'button', class: 'danger small', 'data-delete-user': u.email, 'aria-label': `Delete ${u.username}` }, 'Delete');
          if (u.id === user().id) del.disabled = true;
          del.addEventListener('click', () => {
            if (!window.confirm(`Delete ${u.username} (${u.email}) and everything they own?`)) return;
            busy(del, async () => {
              await api(`/api/users/${u.id}`, { method: 'DELETE' });
              replace(out, notice(`Deleted ${u.username}.`, 'ok'));
              await load();
            }, out);
          });
          return h('tr', { 'data-user': u.email }, h('td', {}, u.username, u.name && u.name !== u.username ? h('div', { class: 'muted' }, u.name) : null),
            h('td', {}, u.email), h('td', {}, sel), h('td', { class: 'muted nowrap' }, fmtTime(u.created_at)),
            h('td', { class: 'muted nowrap' }, fmtTime(u.last_login)), h('td', {}, del));
        }))));
      if (!users.length) replace(list, empty('No users.'));
    }
    load();
  },
};
