// Moviie's embed player: hls.js (or the browser's own HLS) behind one bar of controls, with a
// quality menu, captions, the audio language (a dubbed video's audio renditions), and storyboard
// thumbnails over the seek bar. The page gives its
// settings as JSON in #mv-config: {src, token, poster, storyboard, subtitles: [{lang, label, url}]}.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("mv-config").textContent);
  const root = document.getElementById("mv");
  const video = document.getElementById("player");
  const $ = (name) => root.querySelector(".mv-" + name);
  const play = $("play"), time = $("time"), seek = $("seek"), played = $("played");
  const buffered = $("buffered"), thumb = $("thumb"), quality = $("quality");
  const captions = $("captions"), dub = $("dub"), mute = $("mute"), full = $("full");

  // Private videos: the token rides on every request the player makes.
  function withToken(url) {
    if (!config.token) return url;
    const u = new URL(url, location.href);
    u.searchParams.set("token", config.token);
    return u.toString();
  }

  // Icons as inline SVG: no icon font, no emoji (absent from many systems' fonts).
  const ICONS = {
    play: "M8 5v14l11-7z",
    pause: "M6 5h4v14H6zm8 0h4v14h-4z",
    sound: "M3 9v6h4l5 5V4L7 9H3zm13.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4z",
    muted: "M3 9v6h4l5 5V4L7 9H3zm13.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7" +
      "-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z",
    full: "M7 14H5v5h5v-2H7v-3zm-2-4h2V7h3V5H5v5zm12 7h-3v2h5v-5h-2v3zM14 5v2h3v3h2V5h-5z",
  };
  function icon(button, name, label) {
    if (button.dataset.icon === name) return;
    button.dataset.icon = name;
    button.setAttribute("aria-label", label);
    button.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor"' +
      ' aria-hidden="true"><path d="' + ICONS[name] + '"/></svg>';
  }

  function clock(seconds) {
    if (!isFinite(seconds)) seconds = 0;
    const s = Math.floor(seconds % 60), m = Math.floor(seconds / 60) % 60;
    const h = Math.floor(seconds / 3600);
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // ---- source and quality menu
  let hls = null;
  if (window.Hls && Hls.isSupported()) {
    hls = new Hls({ xhrSetup: (xhr, url) => xhr.open("GET", withToken(url), true) });
    hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
      const levels = data.levels.map((level, index) => ({ level, index }))
        .filter(({ level }) => level.height > 0)
        .sort((a, b) => b.level.height - a.level.height);
      quality.innerHTML = "";
      quality.add(new Option("Auto", "-1"));
      for (const { level, index } of levels) {
        quality.add(new Option(Math.min(level.width, level.height) + "p", String(index)));
      }
      quality.classList.toggle("mv-hidden", levels.length < 2);
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
      const level = hls.levels[data.level];
      if (level && level.height) {
        quality.options[0].text = "Auto (" + Math.min(level.width, level.height) + "p)";
      }
    });
    // Dubs are the master's audio renditions: the original (in the variants) and one per
    // language.
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_event, data) => {
      dub.innerHTML = "";
      data.audioTracks.forEach((track, index) => dub.add(new Option(track.name, String(index))));
      dub.value = String(hls.audioTrack);
      dub.classList.toggle("mv-hidden", data.audioTracks.length < 2);
    });
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (_event, data) => { dub.value = String(data.id); });
    // The standard recovery: a media error (switching between the variants' own sound and a
    // dub's rendition resets the media source) is recovered in place, a network one reloads.
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
      else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
    });
    hls.loadSource(config.src);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = config.src; // the playlists carry the token on their URIs
  }
  quality.addEventListener("change", () => {
    if (hls) hls.currentLevel = Number(quality.value);
  });
  dub.addEventListener("change", () => {
    if (hls) {
      hls.audioTrack = Number(dub.value);
    } else if (video.audioTracks) { // Safari's own HLS lists them itself
      for (let i = 0; i < video.audioTracks.length; i++) {
        video.audioTracks[i].enabled = String(i) === dub.value;
      }
    }
  });
  if (!hls && video.audioTracks) {
    video.audioTracks.addEventListener("addtrack", () => {
      dub.innerHTML = "";
      for (let i = 0; i < video.audioTracks.length; i++) {
        const track = video.audioTracks[i];
        dub.add(new Option(track.label || track.language || "Audio " + (i + 1), String(i)));
        if (track.enabled) dub.value = String(i);
      }
      dub.classList.toggle("mv-hidden", video.audioTracks.length < 2);
    });
  }
  // ?t=SECONDS (an ebook chapter or a quiz question links here): start there.
  const start = Number(new URLSearchParams(location.search).get("t"));
  if (start > 0) {
    video.addEventListener("loadedmetadata", () => { video.currentTime = start; }, { once: true });
  }

  // ---- captions
  for (const track of config.subtitles || []) {
    const element = document.createElement("track");
    element.kind = "subtitles";
    element.srclang = track.lang;
    element.label = track.label || track.lang;
    element.src = withToken(track.url);
    video.appendChild(element);
    captions.add(new Option(element.label, track.lang));
  }
  captions.classList.toggle("mv-hidden", !(config.subtitles || []).length);
  captions.addEventListener("change", () => {
    for (const track of video.textTracks) {
      track.mode = track.language === captions.value ? "showing" : "disabled";
    }
  });

  // ---- storyboard thumbnails: WebVTT cues "start --> end" then "sprite#xywh=x,y,w,h"
  let cues = [];
  function seconds(stamp) {
    return stamp.split(":").reduce((total, part) => total * 60 + parseFloat(part), 0);
  }
  if (config.storyboard) {
    fetch(withToken(config.storyboard)).then((r) => (r.ok ? r.text() : "")).then((text) => {
      const base = new URL(config.storyboard, location.href);
      const blocks = text.split(/\r?\n\r?\n/);
      for (const block of blocks) {
        const lines = block.trim().split(/\r?\n/);
        const timing = lines.findIndex((line) => line.includes("-->"));
        if (timing < 0 || !lines[timing + 1]) continue;
        const [start, end] = lines[timing].split("-->").map((s) => seconds(s.trim()));
        const [file, hash] = lines[timing + 1].split("#xywh=");
        if (!hash) continue;
        const [x, y, w, h] = hash.split(",").map(Number);
        cues.push({ start, end, url: withToken(new URL(file, base).toString()), x, y, w, h });
      }
    }).catch(() => { cues = []; });
  }

  function cueAt(t) {
    return cues.find((cue) => t >= cue.start && t < cue.end) || cues[cues.length - 1];
  }

  // ---- seek bar
  function fraction(event) {
    const box = seek.getBoundingClientRect();
    return Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  }
  function preview(event) {
    if (!cues.length || !isFinite(video.duration)) return;
    const f = fraction(event), cue = cueAt(f * video.duration);
    if (!cue) return;
    thumb.style.width = cue.w + "px";
    thumb.style.height = cue.h + "px";
    thumb.style.backgroundImage = 'url("' + cue.url + '")';
    thumb.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
    const box = seek.getBoundingClientRect();
    const left = Math.min(box.width - cue.w / 2, Math.max(cue.w / 2, f * box.width));
    thumb.style.left = left - cue.w / 2 - 2 + "px";
    thumb.querySelector("span").textContent = clock(f * video.duration);
    thumb.style.display = "block";
  }
  let dragging = false;
  seek.addEventListener("pointerdown", (event) => {
    dragging = true;
    seek.setPointerCapture(event.pointerId);
    video.currentTime = fraction(event) * (video.duration || 0);
  });
  seek.addEventListener("pointermove", (event) => {
    preview(event);
    if (dragging) video.currentTime = fraction(event) * (video.duration || 0);
  });
  seek.addEventListener("pointerup", () => { dragging = false; });
  seek.addEventListener("pointerleave", () => { thumb.style.display = "none"; });

  // ---- state shown on the bar
  function render() {
    const d = video.duration;
    time.textContent = clock(video.currentTime) + " / " + clock(d);
    played.style.width = (isFinite(d) && d ? (100 * video.currentTime) / d : 0) + "%";
    const b = video.buffered;
    buffered.style.width = (b.length && d ? (100 * b.end(b.length - 1)) / d : 0) + "%";
    icon(play, video.paused ? "play" : "pause", video.paused ? "Play" : "Pause");
    const silent = video.muted || video.volume === 0;
    icon(mute, silent ? "muted" : "sound", silent ? "Unmute" : "Mute");
    root.classList.toggle("mv-playing", !video.paused);
  }
  for (const name of ["timeupdate", "durationchange", "progress", "play", "pause",
    "volumechange", "loadedmetadata"]) {
    video.addEventListener(name, render);
  }

  function toggle() { if (video.paused) video.play(); else video.pause(); }
  play.addEventListener("click", toggle);
  video.addEventListener("click", toggle);
  mute.addEventListener("click", () => { video.muted = !video.muted; });
  full.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else root.requestFullscreen();
  });
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLSelectElement) return;
    const keys = {
      " ": toggle, k: toggle, m: () => { video.muted = !video.muted; },
      f: () => full.click(),
      ArrowLeft: () => { video.currentTime = Math.max(0, video.currentTime - 5); },
      ArrowRight: () => { video.currentTime = video.currentTime + 5; },
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });

  // The bar fades while playing and the pointer rests.
  let idle = 0;
  root.addEventListener("pointermove", () => {
    root.classList.remove("mv-idle");
    clearTimeout(idle);
    idle = setTimeout(() => root.classList.add("mv-idle"), 2500);
  });

  // ---- audience analytics: view_start, a heartbeat every 10 s while playing, seek, view_end
  // (by sendBeacon when the page goes). A random viewer id kept in localStorage; no cookies.
  const analytics = config.analytics ? (() => {
    const a = config.analytics;
    const random = () => Array.from(crypto.getRandomValues(new Uint8Array(9)),
      (b) => b.toString(16).padStart(2, "0")).join("");
    let viewer = "vw_" + random();
    try {
      viewer = localStorage.getItem("moviie_viewer") || viewer;
      localStorage.setItem("moviie_viewer", viewer);
    } catch (e) { /* storage blocked: this page's id only */ }
    const view = "vv_" + random();
    let seq = 0, started = false, ended = false, playhead = 0;
    const queue = [];
    function rendition() {
      const level = hls && hls.levels[hls.currentLevel];
      const height = level ? Math.min(level.width, level.height)
        : Math.min(video.videoWidth, video.videoHeight);
      return height ? height + "p" : undefined;
    }
    function push(type, extra) {
      queue.push(Object.assign({ type, video_id: a.video_id, view_id: view, seq: seq++,
        position_s: Math.round(video.currentTime * 1000) / 1000, rendition: rendition(),
        beacon: a.beacon }, extra));
    }
    function flush(leaving) {
      while (queue.length) {
        const body = JSON.stringify({ viewer_id: viewer, events: queue.splice(0, 50) });
        if (leaving && navigator.sendBeacon) navigator.sendBeacon(a.url, body);
        else fetch(a.url, { method: "POST", body, keepalive: true }).catch(() => {});
      }
    }
    video.addEventListener("playing", () => {
      if (started) return;
      started = true;
      push("view_start");
      flush(false);
    });
    video.addEventListener("timeupdate", () => { if (!video.seeking) playhead = video.currentTime; });
    video.addEventListener("seeking", () => {
      if (started) push("seek", { from_s: Math.round(playhead * 1000) / 1000 });
    });
    video.addEventListener("seeked", () => { playhead = video.currentTime; });
    setInterval(() => {
      if (started && !video.paused && !ended) push("heartbeat");
      flush(false);
    }, 10000);
    function end() {
      if (!started || ended) return;
      ended = true;
      push("view_end");
      flush(true);
    }
    video.addEventListener("ended", end);
    addEventListener("pagehide", end);
    return { flush, end };
  })() : null;

  icon(full, "full", "Full screen");
  render();
  window.moviie = { video, hls, analytics };
})();
