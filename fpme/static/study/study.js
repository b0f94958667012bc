// fpme study: what every page shares. `studyApi` talks to the JSON API; `SyncPlayer` plays blinded clips.
// A clip is one PNG of its frames tiled row by row ({url, frames, cols, width, height, fps}); the player draws
// every clip of a pair from one clock, so the two videos stay frame-locked and loop together.
(function () {
  'use strict';

  async function studyApi(url, body) {
    const options = body === undefined ? {} : {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(body),
    };
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new Error('The server cannot be reached; check your connection and try again.');
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(data.error || `The server refused the request (${response.status}).`);
    }
    return data;
  }

  function loadImage(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error('A video failed to load; reload the page.'));
      img.src = url;
    });
  }

  class SyncPlayer {
    constructor(canvases) {
      this.canvases = canvases;
      this.clips = [];
      this.frame = null;
    }

    async show(clips) {
      this.stop();
      const images = await Promise.all(clips.map((c) => loadImage(c.url)));
      this.clips = clips.map((c, i) => Object.assign({img: images[i]}, c));
      this.canvases.forEach((canvas, i) => {
        canvas.width = clips[i].width;
        canvas.height = clips[i].height;
        canvas.dataset.src = clips[i].url;
      });
      this.period = Math.max(...clips.map((c) => c.frames));  // one loop for all: the longest clip
      this.fps = clips[0].fps;
      this.start = performance.now();
      this.draw(this.start);
      const tick = (now) => {
        this.draw(now);
        this.frame = requestAnimationFrame(tick);
      };
      this.frame = requestAnimationFrame(tick);
    }

    draw(now) {
      const k = Math.floor(Math.max(0, now - this.start) * this.fps / 1000) % this.period;
      this.clips.forEach((c, i) => {
        const f = Math.min(k, c.frames - 1);
        const sx = (f % c.cols) * c.width;
        const sy = Math.floor(f / c.cols) * c.height;
        this.canvases[i].getContext('2d').drawImage(c.img, sx, sy, c.width, c.height, 0, 0, c.width, c.height);
      });
    }

    stop() {
      if (this.frame !== null) cancelAnimationFrame(this.frame);
      this.frame = null;
    }
  }

  window.studyApi = studyApi;
  window.SyncPlayer = SyncPlayer;
})();
