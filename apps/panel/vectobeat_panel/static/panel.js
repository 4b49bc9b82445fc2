// VectoBeat panel: progressive enhancement only; every page works without this file.
"use strict";

// the page's words in the reader's language (base.html puts them in <body data-texts>)
const TEXTS = JSON.parse(document.body ? document.body.dataset.texts || "{}" : "{}");

function t(message, values) {
  let shown = TEXTS[message] || message;
  for (const [k, v] of Object.entries(values || {})) shown = shown.split("{" + k + "}").join(String(v));
  return shown;
}

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
}

function field(form, name, value, attrs) {
  const input = document.createElement("input");
  input.name = name;
  input.type = "hidden";
  input.value = value;
  for (const [k, v] of Object.entries(attrs || {})) input.setAttribute(k, v);
  form.append(input);
  return input;
}

function controlForm(root, action, label, opts) {
  const o = opts || {};
  const form = document.createElement("form");
  form.method = "post";
  form.action = root.dataset.form;
  form.className = "ctl inline" + (o.cls ? " " + o.cls : "");
  field(form, "csrf_token", root.dataset.csrf);
  field(form, "action", action);
  for (const [k, v] of Object.entries(o.extra || {})) field(form, k, v);
  if (o.input) {
    const id = o.input.id;
    const lab = text("label", o.input.label, o.input.labelCls);
    lab.htmlFor = id;
    const input = document.createElement("input");
    Object.assign(input, { id, name: o.input.name, type: o.input.type, required: true });
    for (const [k, v] of Object.entries(o.input.attrs || {})) input.setAttribute(k, v);
    form.append(lab, " ", input, " ");
  }
  const button = text("button", label);
  button.type = "submit";
  if (o.id) button.id = o.id;
  form.append(button);
  return form;
}

// the progress bar moves between pushes: position read at a server time, plus the time since
const live = { position: 0, readAt: 0, skew: 0, paused: true, length: 0 };

function tick() {
  const bar = document.getElementById("progress");
  const time = document.getElementById("time");
  if (!bar || !time) return;
  const elapsed = live.paused ? 0 : (Date.now() / 1000 + live.skew - live.readAt) * 1000;
  const at = Math.min(live.length, Math.max(0, live.position + elapsed));
  bar.value = at;
  time.textContent = clock(at) + " / " + clock(live.length);
}

function renderQueue(root, q) {
  const focused = root.contains(document.activeElement) ? document.activeElement : null;
  const typing = focused && focused.id ? [focused.id, focused.value] : null;
  root.replaceChildren();
  const np = document.createElement("section");
  np.className = "np card";
  np.setAttribute("aria-label", t("Now playing"));
  root.append(np);
  const p = q.player;
  if (q.current && p) {
    Object.assign(live, { position: p.position_ms, readAt: p.position_read_at, paused: p.paused,
                          length: q.current.length_ms,
                          skew: (q.server_time || Date.now() / 1000) - Date.now() / 1000 });
    if (q.current.artwork_url) {
      const img = document.createElement("img");
      Object.assign(img, { className: "art", src: q.current.artwork_url, alt: "", width: 96, height: 96 });
      np.append(img);
    }
    const box = document.createElement("div");
    box.className = "np-text";
    const now = document.createElement("p");
    now.className = "now";
    now.append(text("strong", q.current.title, "q-title"), " — ", text("span", q.current.author, "q-author"));
    const bar = document.createElement("progress");
    bar.id = "progress";
    bar.setAttribute("aria-label", t("Position in the track"));
    bar.max = q.current.length_ms;
    const time = text("span", "", "muted");
    time.id = "time";
    const progress = document.createElement("p");
    progress.append(bar, " ", time);
    const state = document.createElement("p");
    state.className = "muted q-state";
    const part = (id, value) => { const el = text("span", String(value)); el.id = id; return el; };
    state.append(part("state", p.paused ? t("Paused") : t("Playing")), " · " + t("volume") + " ",
                 part("volume", p.volume), "% · " + t("loop") + " ", part("loop", p.loop_label || p.loop),
                 " · " + t("filters") + " ",
                 part("filters", p.filters && p.filters.length ? p.filters.join(", ") : t("none")),
                 " · " + t("node") + " " + (p.node || "—"));
    box.append(now, progress, state);
    np.append(box);
    const controls = document.createElement("div");
    controls.className = "controls";
    controls.setAttribute("role", "group");
    controls.setAttribute("aria-label", t("Playback controls"));
    controls.append(
      controlForm(root, "previous", t("Previous"), { id: "q-previous" }), " ",
      controlForm(root, p.paused ? "resume" : "pause", p.paused ? t("Resume") : t("Pause"), { id: "q-pause" }), " ",
      controlForm(root, "skip", t("Skip"), { id: "q-skip" }), " ",
      controlForm(root, "seek", t("Seek"), { id: "q-seek", input: { id: "q-seek-to", name: "position",
        type: "text", label: t("Seek to"), attrs: { size: "7", placeholder: "1:23" } } }), " ",
      controlForm(root, "volume", t("Set"), { id: "q-volume", input: { id: "q-volume-to", name: "volume",
        type: "number", label: t("Volume"), attrs: { min: "0", max: "200", value: String(p.volume) } } }));
    root.append(controls);
    tick();
  } else {
    np.append(text("p", t("Nothing is playing."), "now"));
  }
  const list = document.createElement("ol");
  list.className = "upcoming";
  q.upcoming.forEach((e, i) => {
    const li = document.createElement("li");
    li.className = "track";
    li.draggable = true;
    li.dataset.position = e.position;
    li.append(text("span", e.title + " — " + e.author, "t"), " ");
    if (i > 0) li.append(controlForm(root, "move", t("Up"), { cls: "row", extra: { position: e.position, target: e.position - 1 } }), " ");
    if (i < q.upcoming.length - 1) li.append(controlForm(root, "move", t("Down"), { cls: "row", extra: { position: e.position, target: e.position + 1 } }), " ");
    li.append(controlForm(root, "move", t("Move"), { cls: "row", extra: { position: e.position },
      input: { id: "to-" + e.position, name: "target", type: "number", label: t("Move to position"),
               labelCls: "sr", attrs: { min: "1", max: String(q.total), size: "3" } } }), " ",
      controlForm(root, "remove", t("Remove"), { cls: "row", extra: { position: e.position } }));
    list.append(li);
  });
  const queued = q.total === 1 ? t("{count} track queued", { count: q.total })
                                : t("{count} tracks queued", { count: q.total });
  const shown = q.total > q.upcoming.length ? t("; showing the first {count}", { count: q.upcoming.length }) : "";
  root.append(list, text("p", queued + shown + ".", "muted total"));
  if (q.total) {
    const more = document.createElement("div");
    more.className = "controls";
    more.setAttribute("role", "group");
    more.setAttribute("aria-label", t("Queue controls"));
    more.append(controlForm(root, "shuffle", t("Shuffle"), { id: "q-shuffle" }), " ",
                controlForm(root, "clear", t("Clear"), { id: "q-clear", cls: "ask" }));
    root.append(more);
  }
  // a push keeps the focus where it was (keyboard users) and never wipes what one types
  const again = typing && document.getElementById(typing[0]);
  if (again) { if (again.tagName === "INPUT") again.value = typing[1]; again.focus(); }
}

function showNotice(outcome, message) {
  const notice = document.getElementById("notice");
  if (!notice) return;
  notice.hidden = false;
  notice.className = "notice " + (outcome === "applied" ? "ok" : "error");
  notice.textContent = message;
}

async function sendControl(root, fields) {
  let answer;
  try {
    const response = await fetch(root.dataset.control, {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf-token": root.dataset.csrf },
      body: JSON.stringify(fields),
      credentials: "same-origin",
    });
    answer = await response.json();
  } catch (error) {
    showNotice("unknown", t("The panel did not answer; the change may or may not have been made."));
    return;
  }
  showNotice(answer.outcome || "refused", answer.message || answer.error || t("Something went wrong."));
}

// a push that arrives mid-drag is shown when the drag ends (re-rendering would cancel it)
const drag = { from: null, held: null };

function endDrag(root) {
  drag.from = null;
  if (drag.held) { const q = drag.held; drag.held = null; renderQueue(root, q); }
}

function controls(root) {
  root.addEventListener("submit", (event) => {
    const form = event.target.closest("form.ctl");
    if (!form) return;
    event.preventDefault();
    if (form.classList.contains("ask") && !window.confirm(t("Remove every upcoming track?"))) return;
    const fields = {};
    for (const [k, v] of new FormData(form)) if (k !== "csrf_token" && v !== "") fields[k] = v;
    sendControl(root, fields);
  });
  root.addEventListener("dragstart", (event) => {
    const li = event.target.closest("li.track");
    if (!li) return;
    drag.from = li.dataset.position;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", drag.from);
  });
  root.addEventListener("dragover", (event) => {
    if (drag.from && event.target.closest("li.track")) event.preventDefault();
  });
  root.addEventListener("drop", (event) => {
    const li = event.target.closest("li.track");
    if (!li || !drag.from) return;
    event.preventDefault();
    const target = li.dataset.position;
    if (target !== drag.from) sendControl(root, { action: "move", position: drag.from, target });
    endDrag(root);
  });
  root.addEventListener("dragend", () => endDrag(root));
}

function liveQueue() {
  const root = document.getElementById("queue");
  if (!root) return;
  controls(root);
  window.setInterval(tick, 250);
  if (!window.EventSource) return;
  const source = new EventSource(root.dataset.events);
  source.addEventListener("queue", (event) => {
    const q = JSON.parse(event.data);
    if (drag.from) drag.held = q; else renderQueue(root, q);
  });
}

function confirms() {
  for (const form of document.querySelectorAll("form.confirm")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm || t("Are you sure?"))) event.preventDefault();
    });
  }
}

function copyButtons() {
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target || !navigator.clipboard) return;
      await navigator.clipboard.writeText(target.textContent.trim());
      button.textContent = t("Copied");
    });
  }
}

document.addEventListener("DOMContentLoaded", () => { liveQueue(); confirms(); copyButtons(); });
