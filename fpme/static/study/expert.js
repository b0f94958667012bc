// The expert's sheet: one video at a time, upper / lower / noise graded 0-3 with the rubric's words; each video's
// grades are saved on "Save and next" and stay editable until the sheet is submitted.
(function () {
  'use strict';
  const token = document.body.dataset.token;
  const $ = (id) => document.getElementById(id);
  const player = new SyncPlayer([$('video')]);
  let sheet = null;
  let current = 0;

  const fields = () => Object.keys(sheet.categories);
  const isGraded = (v) => fields().every((f) => v[f] !== null && v[f] !== undefined);
  const say = (text) => { $('status').textContent = text; };

  function buildForm() {
    const box = $('categories');
    box.textContent = '';
    for (const [field, label] of Object.entries(sheet.categories)) {
      const set = document.createElement('fieldset');
      set.className = 'category';
      const legend = document.createElement('legend');
      legend.textContent = label;
      set.appendChild(legend);
      sheet.grades.forEach((word, grade) => {
        const option = document.createElement('label');
        option.className = 'grade';
        const input = document.createElement('input');
        Object.assign(input, {type: 'radio', name: field, value: String(grade), id: `${field}-${grade}`});
        const text = document.createElement('span');
        text.textContent = `${grade} · ${word}`;
        option.append(input, text);
        set.appendChild(option);
      });
      box.appendChild(set);
    }
  }

  function renderProgress() {
    const done = sheet.videos.filter(isGraded).length;
    $('bar').style.width = `${(100 * done) / sheet.videos.length}%`;
    $('progress').setAttribute('aria-valuenow', done);
    $('progress').setAttribute('aria-valuemax', sheet.videos.length);
    const all = done === sheet.videos.length;
    $('confirm').disabled = !all || sheet.submitted;
    $('submit').disabled = !all || sheet.submitted || !$('confirm').checked;
    const chips = $('chips');
    chips.textContent = '';
    sheet.videos.forEach((v, i) => {
      const chip = document.createElement('button');
      chip.type = 'button';
      chip.textContent = String(i + 1);
      chip.className = `chip${isGraded(v) ? ' graded' : ''}${i === current ? ' current' : ''}`;
      chip.addEventListener('click', () => go(i));
      chips.appendChild(chip);
    });
  }

  async function go(i) {
    current = i;
    const v = sheet.videos[i];
    $('caption').textContent = `Video ${i + 1} of ${sheet.videos.length}`;
    for (const f of fields()) {
      document.querySelectorAll(`input[name="${f}"]`).forEach((r) => { r.checked = Number(r.value) === v[f]; });
    }
    $('grading').hidden = false;
    $('prev').disabled = i === 0;
    renderProgress();
    await player.show([v]);
    document.body.dataset.video = v.video;
    document.body.dataset.state = sheet.submitted ? 'submitted' : 'ready';
  }

  function chosen() {
    const out = {};
    for (const f of fields()) {
      const r = document.querySelector(`input[name="${f}"]:checked`);
      out[f] = r ? Number(r.value) : null;
    }
    return out;
  }

  async function save(e) {
    e.preventDefault();
    const grades = chosen();
    if (Object.values(grades).some((g) => g === null)) {
      say(`Choose a grade for each of: ${Object.values(sheet.categories).join(', ')}.`);
      return;
    }
    document.body.dataset.state = 'saving';
    try {
      const saved = await studyApi(`/api/e/${token}/grades`, Object.assign({video: sheet.videos[current].video}, grades));
      Object.assign(sheet.videos[current], saved);
      say(`Saved video ${current + 1}.`);
      const order = sheet.videos.map((_, k) => (current + 1 + k) % sheet.videos.length);
      const next = order.find((k) => !isGraded(sheet.videos[k]));
      await go(next === undefined ? current : next);
    } catch (err) {
      say(err.message);
      document.body.dataset.state = 'error';
    }
  }

  function lock() {
    document.querySelectorAll('#grades input, #grades button, #confirm, #submit').forEach((x) => { x.disabled = true; });
    say('Your sheet is submitted. Thank you!');
    document.body.dataset.state = 'submitted';
  }

  async function submit() {
    try {
      await studyApi(`/api/e/${token}/submit`, {});
      sheet.submitted = true;
      renderProgress();
      lock();
    } catch (err) {
      say(err.message);
    }
  }

  $('grades').addEventListener('submit', save);
  $('prev').addEventListener('click', () => go(Math.max(0, current - 1)));
  $('confirm').addEventListener('change', renderProgress);
  $('submit').addEventListener('click', submit);
  studyApi(`/api/e/${token}`).then(async (s) => {
    sheet = s;
    $('who').textContent = `(${s.name})`;
    buildForm();
    const first = s.videos.findIndex((v) => !isGraded(v));
    await go(first < 0 ? 0 : first);
    if (s.submitted) lock();
  }).catch((err) => {
    say(err.message);
    document.body.dataset.state = 'error';
  });
})();
