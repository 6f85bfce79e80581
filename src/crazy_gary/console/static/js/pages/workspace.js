// Your workspace: browse, upload files and archives, download, delete.

import { apiList, download, request } from '../api.js';
import { debounce, fmtBytes, fmtTime, h, replace } from '../dom.js';
import { busy, empty, errorBox, notice, pageHeader } from '../ui.js';

const enc = (path) => path.split('/').map(encodeURIComponent).join('/');

export default {
  title: 'Workspace',
  render(main) {
    const out = h('div', { 'aria-live': 'polite' });
    const prefix = h('input', { type: 'search', placeholder: 'Folder or path prefix', 'aria-label': 'Path prefix' });
    const files = h('input', { type: 'file', multiple: true, 'aria-label': 'Files to upload', id: 'upload-files' });
    const target = h('input', { type: 'text', placeholder: 'Target folder (optional), e.g. src/', 'aria-label': 'Target folder' });
    const upload = h('button', { type: 'submit', class: 'primary' }, 'Upload');
    const archive = h('input', { type: 'file', accept: '.zip,.tar,.tgz,.tar.gz,.tar.bz2,.tar.xz', 'aria-label': 'Archive to import', id: 'upload-archive' });
    const importBtn = h('button', { type: 'submit' }, 'Import archive');
    const list = h('div', { class: 'table-wrap' });
    const upForm = h('form', { class: 'card upload' }, h('h2', {}, 'Upload'),
      h('div', { class: 'row' }, files, target, upload),
      h('div', { class: 'row' }, archive, importBtn),
      h('small', { class: 'hint' }, 'Archives (zip, tar, tar.gz/bz2/xz) are unpacked into the target folder; a refused archive changes nothing.'));
    main.append(pageHeader('Workspace'), upForm, out, h('div', { class: 'toolbar' }, prefix), list);

    async function send(path, file, extraPath) {
      const form = new FormData();
      form.append('file', file, file.name);
      if (extraPath) form.append('path', extraPath);
      return (await request(path, { method: 'POST', form })).json();
    }
    importBtn.addEventListener('click', (e) => {
      e.preventDefault();
      if (!archive.files.length) { replace(out, notice('Choose an archive first.', 'warn')); return; }
      busy(importBtn, async () => {
        const res = await send('/api/workspace/import', archive.files[0], target.value.trim());
        replace(out, notice(`Imported ${res.imported} files (${fmtBytes(res.bytes)}).`, 'ok'));
        archive.value = '';
        await load();
      }, out);
    });
    upForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!files.files.length) { replace(out, notice('Choose one or more files first.', 'warn')); return; }
      busy(upload, async () => {
        let dir = target.value.trim();
        if (dir && !dir.endsWith('/')) dir += '/';
        const done = [];
        for (const file of files.files) done.push((await send('/api/workspace/files', file, dir || undefined)).path);
        replace(out, notice(`Uploaded ${done.join(', ')}.`, 'ok'));
        files.value = '';
        await load();
      }, out);
    });

    async function load() {
      let items;
      try {
        const p = prefix.value.trim();
        items = await apiList(`/api/workspace/files${p ? `?prefix=${encodeURIComponent(p)}` : ''}`, 2000);
      } catch (err) { replace(list, errorBox(err)); return; }
      if (!items.length) {
        replace(list, empty(prefix.value ? 'Nothing under this prefix.' : 'Your workspace is empty.', 'Upload files or an archive above; agents read and write here too.'));
        return;
      }
      replace(list, h('table', {}, h('thead', {}, h('tr', {}, ['Path', 'Size', 'Modified', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, items.map((f) => {
          const dl = h('button', { type: 'button', class: 'link', 'data-download': f.path }, f.path);
          dl.addEventListener('click', () => busy(dl, () => download(`/api/workspace/files/${enc(f.path)}`, f.path.split('/').pop()), out));
          const del = h('button', { type: 'button', class: 'danger small', 'data-delete': f.path, 'aria-label': `Delete ${f.path}` }, 'Delete');
          del.addEventListener('click', () => {
            if (!window.confirm(`Delete ${f.path}?`)) return;
            busy(del, async () => { await request(`/api/workspace/files/${enc(f.path)}`, { method: 'DELETE' }); await load(); }, out);
          });
          return h('tr', {}, h('td', {}, dl), h('td', { class: 'num' }, fmtBytes(f.size)), h('td', { class: 'muted nowrap' }, fmtTime(f.modified)), h('td', {}, del));
        }))));
    }
    prefix.addEventListener('input', debounce(load, 250));
    load();
  },
};
