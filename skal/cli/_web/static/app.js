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
    state: null, typed: "", typedAt: 0, finished: false,
    target: "class", toggled: new Set(),  // "number" or "set": what an answer is
  };
  const NAME_KEY = "skal-annotator";
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

  function labelText(label) {
    if (label === null) return "skipped";
    if (app.target === "set" && Array.isArray(label)) {
      const names = app.classes.filter((c, k) => label[k] === 1).map(String);
      return names.length ? names.join(", ") : "none of these";
    }
    return String(label);
  }

  function numberText(v) { return Number(v.toPrecision(6)).toString(); }

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

  // A table row or a text: column names, values and the text only ever as textContent.
  function record(sample) {
    const node = el("div", { class: "record" });
    if (sample.record && sample.record.length) node.append(table(sample.record));
    if (sample.kind === "text") {
      const text = el("div", { class: "text", tabindex: "0" }, sample.text);
      if (sample.more) {
        text.append(el("span", { class: "more" },
                       `… ${sample.more.toLocaleString()} more characters not shown`));
      }
      node.append(text);
    }
    return node;
  }

  function prepare(sample) {
    if (sample.kind === "record" || sample.kind === "text") {
      sample.node = record(sample);
      sample.ready = Promise.resolve();
    } else if (sample.kind === "image") {
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
    $("why").textContent = whyText(sample);
    showGuess(sample);
    const banner = $("banner");
    banner.hidden = !("answer" in sample);
    banner.textContent = "answer" in sample
      ? `Relabel sample ${sample.index}: now "${labelText(sample.answer)}". Pick the new label.`
      : "";
    if (app.target === "class") {
      for (const button of $("buttons").children) {
        button.classList.toggle("answered", "answer" in sample
          && button.dataset.label === String(sample.answer));
        button.classList.toggle("guess", !!sample.guess
          && button.dataset.label === String(sample.guess[0][0]));
      }
    } else showKindInput(sample);
    if (tKey !== undefined) {
      requestAnimationFrame(() => setTimeout(() => {
        window.skal.timings.push(performance.now() - tKey);
      }, 0));
    }
  }

  function showGuess(sample) {
    const guess = $("guess");
    guess.replaceChildren();
    if (!sample.guess) { guess.textContent = "No model yet."; return; }
    if (app.target === "number") {
      const [[value, std]] = sample.guess;
      guess.append("Model's guess: ", el("strong", {}, numberText(value)),
                   std === null ? "" : ` ± ${numberText(std)}`);
    } else if (app.target === "set") {
      const likely = sample.guess.filter(([, p]) => p >= 0.5);
      guess.append("Model's guess: ", el("strong", {}, likely.length
        ? likely.map(([c]) => String(c)).join(", ") : "none of these"),
        ` (${sample.guess.map(([c, p]) => `${c} ${Math.round(p * 100)}%`).join(", ")})`);
    } else {
      const [[label, p]] = sample.guess;
      guess.append("Model's guess: ", el("strong", {}, labelText(label)),
                   ` (${Math.round(p * 100)}% sure)`);
    }
  }

  // A number or a set: the input starts from the answer being changed, else empty.
  function showKindInput(sample) {
    const answered = "answer" in sample && sample.answer !== null;
    if (app.target === "number") {
      $("number").value = answered ? String(sample.answer) : "";
      $("number").focus();
      return;
    }
    app.toggled = new Set(answered ? app.classes.map((c, k) => k)
      .filter((k) => sample.answer[k] === 1) : []);
    const likely = new Set((sample.guess || []).filter(([, p]) => p >= 0.5).map(([c]) => String(c)));
    [...$("buttons").children].forEach((button, k) => {
      button.classList.toggle("guess", likely.has(button.dataset.label));
      button.classList.toggle("answered", answered && sample.answer[k] === 1);
    });
    renderToggles();
  }

  function renderToggles() {
    [...$("buttons").children].forEach((button, k) => {
      button.classList.toggle("on", app.toggled.has(k));
      button.setAttribute("aria-pressed", app.toggled.has(k) ? "true" : "false");
    });
    const names = app.classes.filter((c, k) => app.toggled.has(k)).map(String);
    $("confirm").lastChild.textContent = names.length ? ` confirm: ${names.join(", ")}`
      : " confirm: none of these";
  }

  function toggle(k) {
    if (!app.current) return;
    if (app.toggled.has(k)) app.toggled.delete(k); else app.toggled.add(k);
    renderToggles();
  }

  function confirmSet(tKey) {
    if (!app.current) return;
    answer(app.classes.map((c, k) => (app.toggled.has(k) ? 1 : 0)), tKey);
  }

  // A typed value: a finite decimal number, else nothing is sent and the status says why.
  function submitNumber(tKey) {
    const text = $("number").value.trim();
    const value = Number(text);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) || !Number.isFinite(value)) {
      status(text ? `"${text.slice(0, 40)}" is not a finite number: type one such as 3.5`
        : "type a number (or skip)", true);
      return;
    }
    answer(value, tKey);
  }

  // A sample fetched before the first model says why as it was then; say it as it is now.
  function whyText(sample) {
    const st = app.state;
    if (sample.why.reason !== "initial" || !st || !(st.training || st.model_labels)) {
      return sample.why.text;
    }
    const now = st.model_labels ? "the model is ready now" : "the first model is training…";
    return `random sample of ${sample.why.n_candidates.toLocaleString()} (chosen before the `
      + `first model; ${now})`;
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
      button.addEventListener("click", () => (app.target === "set" ? toggle(k)
        : answer(label, performance.now())));
      return button;
    });
    $("buttons").replaceChildren(...buttons);
    if (app.target === "set") renderToggles();
    if (app.current) show(app.current);
  }

  function renderCurve(curve) {
    const box = $("curve-box");
    if (!curve.length) { box.replaceChildren(); return; }
    const w = 300, h = 120, pad = 22, left = 34;
    const xs = curve.map((p) => p[0]), ys = curve.map((p) => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
    // the y axis spans the scores' range, rounded out to tenths, with a tick per step
    let y0 = Math.floor(Math.min(...ys) * 10) / 10, y1 = Math.ceil(Math.max(...ys) * 10) / 10;
    if (y1 - y0 < 0.1) { y0 = Math.max(0, y1 - 0.1); y1 = y0 + 0.1; }
    const x = (v) => (left + ((v - x0) * (w - left - pad)) / (x1 - x0)).toFixed(1);
    const y = (v) => (h - pad - ((v - y0) * (h - 2 * pad)) / (y1 - y0)).toFixed(1);
    const node = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
    const step = (y1 - y0) > 0.45 ? 0.2 : 0.1;
    for (let t = y0; t <= y1 + 1e-9; t += step) {
      node.append(svg("line", { x1: left, x2: w - pad, y1: y(t), y2: y(t) }));
      const tick = svg("text", { x: left - 4, y: Number(y(t)) + 3, "text-anchor": "end",
                                 class: "tick" });
      tick.textContent = t.toFixed(1);
      node.append(tick);
    }
    node.append(svg("polyline", { points: curve.map((p) => `${x(p[0])},${y(p[1])}`).join(" ") }));
    for (const p of curve) node.append(svg("circle", { cx: x(p[0]), cy: y(p[1]), r: 2.5 }));
    const last = curve[curve.length - 1];
    const caption = svg("text", { x: left, y: 12 });
    caption.textContent = `validation ${app.target === "number" ? "R²" : "accuracy"} `
      + `${last[1].toFixed(3)} at ${last[0]} labels`;
    const axis = svg("text", { x: left, y: h - 6 });
    axis.textContent = `labels ${x0} → ${x1}`;
    node.append(caption, axis);
    box.replaceChildren(node);
  }

  function renderHistory(recent) {
    const items = recent.map(([index, label, thumb, name]) => {
      const key = name || `#${index}`;  // the journal's key: an id value, a file name
      const button = el("button", { type: "button", "data-index": String(index),
                                    title: `${key}: ${labelText(label)} `
                                      + (label === null ? "(un-skip: label it)" : "(relabel)") });
      if (thumb) button.append(el("img", { src: thumb, alt: "" }));
      else button.append(el("span", { class: "key" }, key));
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
    app.state = state;
    let model = state.model_labels
      ? `Trained on ${state.model_labels} labels (model ${state.model_version}).`
      : (state.training ? "Training the first model…" : "No model yet: random samples first.");
    if (state.training && state.model_labels) model += " Retraining in the background…";
    $("counts").textContent = (state.class_counts || []).length
      ? (app.target === "set" ? "Samples per label: " : "Labels per class: ")
        + state.class_counts.map(([c, n]) => `${c} ${n}`).join(" · ")
      : "";
    if (state.finished && "n_labeled" in state.finished) showFinished(state.finished);
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
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    if (event.altKey || event.metaKey || event.ctrlKey) {
      if (event.key === "z" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); undo(); }
      return;
    }
    const key = event.key.toLowerCase();
    if (app.finished) return;
    if (key === "escape") { leaveRelabel(); return; }
    if (key === " ") { event.preventDefault(); answer(null, event.timeStamp); return; }
    if (key === "backspace") { event.preventDefault(); undo(); return; }
    const k = app.keys.indexOf(key);
    if (k >= 0 && key && app.target === "set") { event.preventDefault(); toggle(k); return; }
    if (k >= 0 && key) { event.preventDefault(); answer(app.classes[k], event.timeStamp); return; }
    if (key === "enter" && app.typed) { event.preventDefault(); typePrefix("", true); return; }
    if (key === "enter" && app.target === "set") {
      event.preventDefault();
      confirmSet(event.timeStamp);
      return;
    }
    if (key.length === 1 && /\p{L}|\p{N}|[-_.]/u.test(key)) {
      event.preventDefault();
      typePrefix(key, false);
    }
  });

  // Classes with longer names: typing their first letters chooses the one class that
  // starts so (Enter takes an exact name among several); a pause of 1.5 s starts over.
  function typePrefix(key, enter) {
    const now = performance.now();
    if (now - app.typedAt > 1500) app.typed = "";
    app.typedAt = now;
    app.typed += key;
    const typed = app.typed;
    const matches = app.classes.filter((c) => String(c).toLowerCase().startsWith(typed));
    const exact = matches.find((c) => String(c).toLowerCase() === typed);
    if (matches.length === 1 || (enter && exact !== undefined)) {
      app.typed = "";
      const chosen = matches.length === 1 ? matches[0] : exact;
      if (app.target === "set") toggle(app.classes.indexOf(chosen));
      else answer(chosen, now);
    } else if (!matches.length) {
      app.typed = "";
      status(`no class starts with "${typed}"`, true);
    } else {
      status(`"${typed}": ${matches.map(String).join(", ")} — type more`
        + (exact !== undefined ? " or Enter" : ""));
    }
  }

  function leaveRelabel() {
    const sample = app.current;
    if (!sample || !(("answer" in sample) || sample.why.reason === "relabel")) return;
    $("banner").hidden = true;
    advance();
  }

  // ------------------------------------------------------------------ name, team, results

  function showName(name, named) {
    $("who").textContent = name ? `labeling as ${name}` : "labeling without a name";
    $("who-form").hidden = named;
  }

  async function rename(name) {
    try {
      const data = await api("/api/annotator", { annotator: name });
      localStorage.setItem(NAME_KEY, data.annotator);
      showName(data.annotator, true);
      status(`answers are now recorded as ${data.annotator}`);
    } catch (err) { status(`name refused: ${err.message}`, true); }
  }

  function cells(tr, values, tag) {
    for (const v of values) tr.append(el(tag || "td", {}, v === null ? "—" : String(v)));
    return tr;
  }

  function fillTable(id, head, rows) {
    const table = $(id);
    const thead = el("thead");
    thead.append(cells(el("tr"), head, "th"));
    const body = el("tbody");
    for (const row of rows) body.append(cells(el("tr"), row));
    table.replaceChildren(thead, body);
  }

  function kappaText(k, defined) {
    if (k === null) return "—";
    return defined ? k.toFixed(2) : `${k.toFixed(2)} (one class only)`;
  }

  function renderTeam(stats) {
    $("team-summary").textContent = `overlap ${Math.round(stats.overlap * 100)}%: `
      + `${stats.waiting} samples wait for a second person; `
      + `${stats.conflicts.length} conflicts, ${stats.n_adjudicated} adjudicated.`;
    fillTable("team-people", ["person", "answers"],
              stats.answers.map(([who, n]) => [who || "(no name)", n]));
    fillTable("team-pairs", ["people", "shared", "agree", "kappa"], stats.pairs.map((p) => [
      `${p.a} · ${p.b}`, p.n, p.agreement === null ? null : `${Math.round(p.agreement * 100)}%`,
      kappaText(p.kappa, p.defined)]));
    fillTable("team-classes", ["class", "samples", "kappa"], stats.per_class.map((c) => [
      String(c.class), c.n, kappaText(c.kappa, c.defined)]));
    const items = stats.conflicts.map((conflict) => {
      const li = el("li", { "data-index": String(conflict.index) });
      if (conflict.thumbnail) li.append(el("img", { src: conflict.thumbnail, alt: "" }));
      li.append(el("span", {}, conflict.name || `sample ${conflict.index}`), " ");
      li.append(el("span", { class: "answers" },
                   conflict.answers.map(([who, lab]) => `${who || "(no name)"}: ${lab}`)
                     .join(" · ")));
      const labels = [...new Set([...conflict.answers.map(([, lab]) => lab), ...stats.classes])];
      for (const label of labels) {
        const b = el("button", { type: "button", "data-label": String(label) }, String(label));
        b.addEventListener("click", () => adjudicate(conflict.index, label));
        li.append(b);
      }
      return li;
    });
    $("team-conflicts").replaceChildren(...items);
  }

  async function openTeam() {
    try {
      renderTeam(await api("/api/stats"));
      $("team").hidden = false;
      $("team").scrollIntoView();
    } catch (err) { status(`no team view: ${err.message}`, true); }
  }

  async function adjudicate(index, label) {
    try {
      renderTeam(await api("/api/adjudicate", { index, label }));
      status(`sample ${index} adjudicated: ${label}`);
    } catch (err) { status(`not adjudicated: ${err.message}`, true); }
  }

  async function exportAnswers() {
    const format = $("export-format").value;
    try {
      const response = await fetch("/api/export", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Skal-Token": token },
        body: JSON.stringify({ client: app.client, format }),
      });
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try { message = (await response.json()).error || message; } catch (err) { /* */ }
        throw new Error(message);
      }
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: `labels.${format}` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      status(`exported the answers as ${format}`);
    } catch (err) { status(`export failed: ${err.message}`, true); }
  }

  function showFinished(done) {
    app.finished = true;
    app.exhausted = true;
    const box = $("finished");
    box.hidden = false;
    box.textContent = `Finished: ${done.n_labeled} labels and ${done.n_skipped} skips are in `
      + `the journal ${done.journal}. Model: ${done.model}.`
      + (done.saved ? ` Saved the learner to ${done.saved}.` : " (no --save: not saved.)")
      + " The server has stopped; run the same command to continue.";
    document.body.dataset.finished = "1";
    app.buffer = [];
    show(null);
  }

  async function finish() {
    status("finishing: training once more and saving…");
    try {
      await app.chain;  // answers still being sent go first
      showFinished(await api("/api/finish"));
      status("finished");
    } catch (err) { status(`could not finish: ${err.message}`, true); }
  }
  $("skip").addEventListener("click", () => answer(null, performance.now()));
  $("confirm").addEventListener("click", () => confirmSet(performance.now()));
  $("number-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitNumber(performance.now());
  });
  $("number").addEventListener("keydown", (event) => {
    if (event.key === "Escape") { $("number").blur(); leaveRelabel(); }
  });
  $("undo").addEventListener("click", () => undo());
  $("finish").addEventListener("click", () => finish());
  $("export").addEventListener("click", () => exportAnswers());
  $("team-open").addEventListener("click", () => openTeam());
  $("team-refresh").addEventListener("click", () => openTeam());
  $("team-close").addEventListener("click", () => { $("team").hidden = true; });
  $("who-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("who-name").value.trim();
    $("who-name").blur();
    if (name) rename(name);
  });
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
      const given = new URLSearchParams(location.search).get("annotator");
      const stored = localStorage.getItem(NAME_KEY);
      const hello = await api("/api/hello", { annotator: given || stored || undefined });
      app.client = hello.client;
      if (given) localStorage.setItem(NAME_KEY, given);
      showName(hello.annotator, hello.named);
      $("new-label-form").hidden = hello.fixed_classes;
      app.target = hello.target || "class";
      document.body.dataset.target = app.target;
      $("buttons").hidden = app.target === "number";
      $("number-form").hidden = app.target !== "number";
      $("set-controls").hidden = app.target !== "set";
      renderState(hello.state);
      document.body.dataset.ready = "1";
      refill();
      setInterval(() => {
        api("/api/state").then(renderState).catch(() => undefined);
        if (!app.current && app.exhausted && !app.finished) { app.exhausted = false; refill(); }
      }, 4000);
    } catch (err) {
      status(`cannot start: ${err.message} (open the URL printed by skal label --web)`, true);
    }
  }
  start();
})();
