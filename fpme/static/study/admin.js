// The admin page: study summary, invitations (create, revoke), progress per person, export links.
(function () {
  'use strict';
  const admin = document.body.dataset.admin;
  const $ = (id) => document.getElementById(id);
  const say = (text) => { $('status').textContent = text; };
  const REFRESH_MS = 5000;

  function cell(row, content) {
    const td = document.createElement('td');
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    row.appendChild(td);
    return td;
  }

  function progressBar(p) {
    const outer = document.createElement('div');
    outer.className = 'progress small';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${p.total ? (100 * p.answered) / p.total : 0}%`;
    outer.appendChild(bar);
    const wrap = document.createElement('span');
    wrap.className = 'with-bar';
    wrap.append(outer, document.createTextNode(` ${p.answered}/${p.total}`));
    return wrap;
  }

  function revokeButton(p) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Revoke';
    b.className = 'danger';
    b.addEventListener('click', async () => {
      if (b.dataset.armed !== '1') {
        b.dataset.armed = '1';
        b.textContent = 'Confirm revoke';
        return;
      }
      try {
        await studyApi(`/api/admin/${admin}/revoke`, {token: p.token});
        say(`Revoked ${p.name}.`);
      } catch (err) {
        say(err.message);
      }
      refresh();
    });
    return b;
  }

  function linkField(p) {
    const input = document.createElement('input');
    Object.assign(input, {type: 'text', readOnly: true, value: `${location.origin}${p.link}`, className: 'link'});
    input.addEventListener('focus', () => input.select());
    return input;
  }

  function render(s) {
    const complete = s.people.filter((p) => p.role === 'participant' && p.status === 'complete').length;
    const submitted = s.people.filter((p) => p.role === 'expert' && p.status === 'submitted').length;
    $('summary').textContent = `${s.pairs} pairs in ${s.comparisons.length} comparisons (${s.comparisons.join('; ')}), `
      + `${s.videos} blinded videos. ${complete} participant(s) complete, ${submitted} expert sheet(s) submitted.`;
    const body = $('people').querySelector('tbody');
    body.textContent = '';
    for (const p of s.people) {
      const row = document.createElement('tr');
      row.className = p.status.replace(' ', '-');
      cell(row, p.name);
      cell(row, p.role);
      cell(row, progressBar(p));
      cell(row, p.status);
      cell(row, p.status === 'revoked' ? '' : linkField(p));
      cell(row, p.status === 'revoked' ? '' : revokeButton(p));
      body.appendChild(row);
    }
    document.body.dataset.state = 'ready';
  }

  async function refresh() {
    try {
      render(await studyApi(`/api/admin/${admin}`));
    } catch (err) {
      say(err.message);
    }
  }

  $('invite').addEventListener('submit', async (e) => {
    e.preventDefault();
    const names = $('names').value.split(/[\s,;]+/).filter(Boolean);
    const body = names.length ? {role: $('role').value, names: names}
      : {role: $('role').value, count: Number($('count').value)};
    try {
      const made = await studyApi(`/api/admin/${admin}/invite`, body);
      say(`Invited ${made.map((p) => p.name).join(', ')}.`);
      $('names').value = '';
    } catch (err) {
      say(err.message);
    }
    refresh();
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
