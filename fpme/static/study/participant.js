// The participant's page: one pair at a time, one click (or arrow key) per vote, resumable from the same link.
(function () {
  'use strict';
  const token = document.body.dataset.token;
  const $ = (id) => document.getElementById(id);
  const player = new SyncPlayer([$('left-video'), $('right-video')]);
  const buttons = [$('choose-left'), $('choose-right')];
  let state = null;
  let busy = false;

  function setProgress(s) {
    $('bar').style.width = `${s.total ? (100 * s.answered) / s.total : 0}%`;
    $('progress').setAttribute('aria-valuenow', s.answered);
    $('progress').setAttribute('aria-valuemax', s.total);
    $('count').textContent = s.done ? `All ${s.total} pairs done` : `Pair ${s.answered + 1} of ${s.total}`;
  }

  async function render(s) {
    state = s;
    setProgress(s);
    if (s.done) {
      player.stop();
      $('pair').hidden = true;
      $('hint').hidden = true;
      $('done').hidden = false;
      document.body.dataset.state = 'done';
      return;
    }
    $('pair').hidden = false;
    $('hint').hidden = false;
    buttons.forEach((b) => { b.disabled = true; });
    await player.show([s.left, s.right]);
    buttons.forEach((b) => { b.disabled = false; });
    document.body.dataset.pair = s.pair;
    document.body.dataset.state = 'ready';
  }

  async function choose(choice) {
    if (busy || !state || state.done) return;
    busy = true;
    buttons.forEach((b) => { b.disabled = true; });
    document.body.dataset.state = 'saving';
    $('status').textContent = 'Saving…';
    try {
      const next = await studyApi(`/api/p/${token}/vote`, {pair: state.pair, choice: choice});
      $('status').textContent = 'Saved.';
      await render(next);
    } catch (err) {
      $('status').textContent = err.message;
      try {
        await render(await studyApi(`/api/p/${token}`));
      } catch (again) {
        document.body.dataset.state = 'error';
      }
    } finally {
      busy = false;
    }
  }

  buttons.forEach((b) => b.addEventListener('click', () => choose(b.dataset.choice)));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowLeft') choose('left');
    if (e.key === 'ArrowRight') choose('right');
  });
  studyApi(`/api/p/${token}`).then(render).catch((err) => {
    $('status').textContent = err.message;
    document.body.dataset.state = 'error';
  });
})();
