import * as auth from '../api.js';
import { field, h, setTitle } from '../dom.js';
import { busy, errorBox, navigate } from '../ui.js';

export default {
  title: 'Sign in',
  render(main, _params, query, opts) {
    const registering = !!opts.register;
    setTitle(registering ? 'Create an account' : 'Sign in');
    const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
    const name = h('input', { type: 'text', name: 'name', autocomplete: 'name' });
    const password = h('input', { type: 'password', name: 'password', required: true,
      autocomplete: registering ? 'new-password' : 'current-password' });
    const out = h('div', { 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'primary' }, registering ? 'Create account' : 'Sign in');
    const form = h('form', { class: 'card auth-card' },
      h('h1', { tabindex: '-1' }, registering ? 'Create an account' : 'Sign in to Crazy Gary'),
      field('Email', email),
      registering ? field('Name (optional)', name) : null,
      field('Password', password, registering ? 'At least 8 characters with a letter and a digit.' : null),
      out, submit,
      h('p', { class: 'muted' }, registering
        ? ['Already have an account? ', h('a', { href: '/login', 'data-link': '' }, 'Sign in')]
        : ['New here? ', h('a', { href: '/register', 'data-link': '' }, 'Create an account')]));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      busy(submit, async () => {
        if (registering) await auth.register(email.value, password.value, name.value);
        else await auth.login(email.value, password.value);
        const next = query.get('next');
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/tasks', { replace: true });
      }, out);
    });
    main.append(h('div', { class: 'auth-wrap' }, h('p', { class: 'brand big' }, 'Crazy Gary'), form));
    email.focus();
  },
};
