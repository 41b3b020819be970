"use strict";
// The labeling page of `skal label --web`. Everything from the pool is put in the page
// with textContent or setAttribute, never as HTML. Answers are sent in order, one at a time,
// while the next sample (prefetched, decoded) is shown at once.
(() => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const BUFFER = 3;
  const app = {
    client: null, classes: [], keys: [], fixed: true, buffer: [], displaced: [],
    current: null, mine: [], pending: 0, chain: Promise.resolve(), fetching: false,
    instance: null, stateVersion: -1,
    exhausted: false, waitingKey: undefined, classesShown: "",
  };
  window.skal = { timings: [], acked: [], sent: [], app };

  function el(tag, props, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  async function api(path, body, keepalive) {
    const response = await fetch(path, {
      method: "POST", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-Skal-Token": token },
      body: JSON.stringify(Object.assign({ client: app.client }, body || {})),
    });
    let data = {};
    try { data = await response.json(); } catch (err) { /* not JSON */ }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  function labelText(label) { return label === null ? "skipped" : String(label); }

  // ------------------------------------------------------------------ samples

  function plot(values) {
    const w = 640, h = 300, pad = 10;
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!(hi > lo)) hi = lo + 1;
    const x = (i) => (pad + (i * (w - 2 * pad)) / Math.max(1, values.length - 1)).toFixed(1);
    const y = (v) => (h - pad - ((v - lo) * (h - 2 * pad)) / (hi - lo)).toFixed(1);
    const node = svg("svg", { viewBox: `0 0 ${w} ${h}`, class: "signal", role: "img" });
    if (lo < 0 && hi > 0) node.append(svg("line", { x1: pad, x2: w - pad, y1: y(0), y2: y(0) }));
    node.append(svg("polyline", { points: values.map((v, i) => `${x(i)},${y(v)}`).join(" ") }));
    return node;
  }

  function table(rows) {
    const body = el("tbody");
    for (const [name, value] of rows) {
      const tr = el("tr");
      tr.append(el("th", { scope: "row" }, name), el("td", {}, value));
      body.append(tr);
    }
    const node = el("table");
    node.append(body);
    return node;
  }

  function prepare(sample) {
    if (sample.kind === "image") {
      sample.node = el("img", { alt: `sample ${sample.index}`, width: sample.width,
                                height: sample.height });
      sample.node.src = sample.image;
      sample.ready = sample.node.decode().catch(() => undefined);
    } else {
      sample.node = sample.kind === "signal" ? plot(sample.signal) : table(sample.table);
      sample.ready = Promise.resolve();
    }
    return sample;
  }

  async function show(sample, tKey) {
    app.current = sample;
    const box = $("sample");
    if (!sample) {
      app.waitingKey = tKey;
      box.dataset.index = "";
      const text = app.exhausted ? "Nothing left to label: every sample was answered, or the "
        + "budget is reached." : "Loading…";
      box.replaceChildren(el("p", { class: "empty" }, text));
      return;
    }
    await sample.ready;
    if (app.current !== sample) return;
    box.replaceChildren(sample.node);
    box.dataset.index = String(sample.index);
    $("name").textContent = sample.name || `sample ${sample.index}`;
    $("why").textContent = sample.why.text;
    const guess = $("guess");
    guess.replaceChildren();
    if (sample.guess) {
      const [[label, p]] = sample.guess;
      guess.append("Model's guess: ", el("strong", {}, labelText(label)),
                   ` (${Math.round(p * 100)}% sure)`);
    } else guess.textContent = "No model yet.";
    const banner = $("banner");
    banner.hidden = !("answer" in sample);
    banner.textContent = "answer" in sample
      ? `Relabel sample ${sample.index}: now "${labelText(sample.answer)}". Pick the new label.`
      : "";
    for (const button of $("buttons").children) {
      button.classList.toggle("answered", "answer" in sample
        && button.dataset.label === String(sample.answer));
      button.classList.toggle("guess", !!sample.guess
        && button.dataset.label === String(sample.guess[0][0]));
    }
    if (tKey !== undefined) {
      requestAnimationFrame(() => setTimeout(() => {
        window.skal.timings.push(performance.now() - tKey);
      }, 0));
    }
  }

  function advance(tKey) {
    const next = app.displaced.length ? app.displaced.shift() : app.buffer.shift();
    show(next || null, tKey);
    refill();
  }

  function refill() {
    if (app.fetching || app.exhausted || !app.client) return;
    const want = BUFFER - app.buffer.length;
    if (want <= 0) return;
    app.fetching = true;
    api("/api/next", { n: want }).then((data) => {
      const samples = data.samples.map(prepare);
      app.buffer.push(...samples);
      if (!samples.length) app.exhausted = true;
      renderState(data.state);
      if (!app.current) show(app.buffer.shift() || null, app.waitingKey);
    }).catch((err) => status(`could not fetch samples: ${err.message}`, true))
      .finally(() => {
        app.fetching = false;
        if (app.buffer.length < BUFFER && !app.exhausted) setTimeout(refill, 50);
      });
  }

  // ------------------------------------------------------------------ answers

  function savedText() { return app.pending ? `saving ${app.pending}…` : "all answers saved"; }

  function enqueue(job, onError) {
    app.pending += 1;
    document.body.dataset.pending = String(app.pending);
    status(savedText());
    app.chain = app.chain.then(job).catch((err) => {
      if (onError) onError();
      status(`not saved: ${err.message}`, true);
      return "failed";
    }).then((outcome) => {
      app.pending -= 1;
      document.body.dataset.pending = String(app.pending);
      if (outcome !== "failed") status(savedText());
    });
  }

  function answer(label, tKey) {
    const sample = app.current;
    if (!sample) return;
    const index = sample.index;
    window.skal.sent.push([index, label]);
    app.mine.push(index);
    enqueue(async () => {
      const state = await api("/api/answer", { index, label });
      window.skal.acked.push([index, label]);
      renderState(state);
    }, () => {
      app.mine = app.mine.filter((i) => i !== index);
      delete sample.answer;
      app.displaced.unshift(sample);
      if (!app.current) advance();
    });
    advance(tKey);
  }

  function undo() {
    const index = app.mine.pop();
    if (index === undefined) { status("nothing of yours to undo"); return; }
    enqueue(async () => {
      const data = await api("/api/undo", { index });
      window.skal.acked.push([index, "undo"]);
      bringUp(prepare(data.sample));
      renderState(data.state);
    });
  }

  async function relabel(index) {
    try {
      const data = await api("/api/sample", { index });
      bringUp(prepare(data.sample));
    } catch (err) { status(`cannot relabel: ${err.message}`, true); }
  }

  function bringUp(sample) {
    if (app.current && app.current.index !== sample.index) app.displaced.unshift(app.current);
    app.displaced = app.displaced.filter((s) => s.index !== sample.index);
    show(sample, performance.now());
  }

  // ------------------------------------------------------------------ state

  function renderButtons(classes, keys) {
    const shown = JSON.stringify([classes, keys]);
    if (shown === app.classesShown) return;
    app.classesShown = shown;
    app.classes = classes;
    app.keys = keys;
    const buttons = classes.map((label, k) => {
      const button = el("button", { type: "button", "data-label": String(label),
                                    "data-key": keys[k] || "" });
      if (keys[k]) button.append(el("kbd", {}, keys[k]));
      button.append(String(label));
      button.addEventListener("click", () => answer(label, performance.now()));
      return button;
    });
    $("buttons").replaceChildren(...buttons);
    if (app.current) show(app.current);
  }

  function renderCurve(curve) {
    const box = $("curve-box");
    if (!curve.length) { box.replaceChildren(); return; }
    const w = 300, h = 120, pad = 22;
    const xs = curve.map((p) => p[0]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
    const x = (v) => (pad + ((v - x0) * (w - 2 * pad)) / (x1 - x0)).toFixed(1);
    const y = (v) => (h - pad - v * (h - 2 * pad)).toFixed(1);
    const node = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
    node.append(svg("line", { x1: pad, x2: w - pad, y1: y(0), y2: y(0) }),
                svg("line", { x1: pad, x2: w - pad, y1: y(1), y2: y(1) }));
    node.append(svg("polyline", { points: curve.map((p) => `${x(p[0])},${y(p[1])}`).join(" ") }));
    for (const p of curve) node.append(svg("circle", { cx: x(p[0]), cy: y(p[1]), r: 2.5 }));
    const last = curve[curve.length - 1];
    const caption = svg("text", { x: pad, y: 12 });
    caption.textContent = `validation accuracy ${last[1].toFixed(3)} at ${last[0]} labels`;
    const axis = svg("text", { x: pad, y: h - 6 });
    axis.textContent = `labels ${x0} → ${x1}`;
    node.append(caption, axis);
    box.replaceChildren(node);
  }

  function renderHistory(recent) {
    const items = recent.map(([index, label, thumb]) => {
      const button = el("button", { type: "button", "data-index": String(index),
                                    title: `sample ${index}: ${labelText(label)} (relabel)` });
      if (thumb) button.append(el("img", { src: thumb, alt: "" }));
      else button.append(el("span", {}, `#${index}`));
      button.append(el("span", label === null ? { class: "skipped" } : {}, labelText(label)));
      button.addEventListener("click", () => relabel(index));
      const li = el("li");
      li.append(button);
      return li;
    });
    $("history").replaceChildren(...items);
  }

  function renderState(state) {
    // replies to requests sent together can arrive out of order: never go back
    if (state.instance === app.instance && state.version < app.stateVersion) return;
    app.instance = state.instance;
    app.stateVersion = state.version;
    const total = state.budget || state.n_samples;
    const done = state.n_labeled + state.n_skipped;
    $("progress").textContent = `${state.n_labeled} labeled, ${state.n_skipped} skipped`
      + ` of ${total}${state.budget ? " (budget)" : ""} · round ${state.round}`;
    $("bar-fill").style.width = `${Math.min(100, (100 * done) / Math.max(1, total))}%`;
    let model = state.model_labels
      ? `Trained on ${state.model_labels} labels (model ${state.model_version}).`
      : "No model yet: random samples first.";
    if (state.training) model += " Retraining in the background…";
    $("model").textContent = model;
    const failed = state.refit_error;  // the old model keeps serving: say so, keep labeling
    $("model-error").hidden = !failed;
    $("model-error").textContent = failed
      ? `Retraining failed at ${failed.n_labeled} labels: ${failed.message} `
        + "(the model above keeps guessing and choosing; answers are still saved, and "
        + "retraining is tried again as they come in)"
      : "";
    const stopping = state.stopping || [];  // skal label --stop: the criteria's progress
    $("stopping").hidden = !stopping.length;
    $("stopping").textContent = stopping.join("; ")
      + (state.can_stop ? ` — you can stop here (${state.can_stop}).` : "");
    renderCurve(state.curve);
    renderHistory(state.recent);
    renderButtons(state.classes, state.keys);
  }

  // ------------------------------------------------------------------ input

  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, textarea")) return;
    if (event.altKey || event.metaKey || event.ctrlKey) {
      if (event.key === "z" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); undo(); }
      return;
    }
    const key = event.key.toLowerCase();
    if (key === " ") { event.preventDefault(); answer(null, event.timeStamp); return; }
    if (key === "backspace") { event.preventDefault(); undo(); return; }
    const k = app.keys.indexOf(key);
    if (k >= 0 && key) { event.preventDefault(); answer(app.classes[k], event.timeStamp); }
  });
  $("skip").addEventListener("click", () => answer(null, performance.now()));
  $("undo").addEventListener("click", () => undo());
  $("new-label-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("new-label").value.trim();
    if (text) { $("new-label").value = ""; $("new-label").blur(); answer(text, performance.now()); }
  });
  window.addEventListener("pagehide", () => {
    if (app.client) api("/api/release", {}, true).catch(() => undefined);
  });

  async function start() {
    try {
      const hello = await api("/api/hello");
      app.client = hello.client;
      $("new-label-form").hidden = hello.fixed_classes;
      renderState(hello.state);
      document.body.dataset.ready = "1";
      refill();
      setInterval(() => {
        api("/api/state").then(renderState).catch(() => undefined);
        if (!app.current && app.exhausted) { app.exhausted = false; refill(); }
      }, 4000);
    } catch (err) {
      status(`cannot start: ${err.message} (open the URL printed by skal label --web)`, true);
    }
  }
  start();
})();
