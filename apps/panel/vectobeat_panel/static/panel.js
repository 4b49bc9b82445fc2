// VectoBeat panel: progressive enhancement only; every page works without this file.
"use strict";

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function renderQueue(root, q) {
  root.replaceChildren();
  const now = document.createElement("p");
  now.className = "now";
  if (q.current) {
    now.append("Now playing: ", text("strong", q.current.title, "q-title"), " — ",
               text("span", q.current.author, "q-author"));
    if (q.player) {
      const p = q.player;
      now.append(" ", text("span", "(" + (p.paused ? "paused, " : "") + "volume " + p.volume +
                               ", loop " + p.loop + ", node " + (p.node || "—") + ")", "muted"));
    }
  } else {
    now.textContent = "Nothing is playing.";
  }
  const list = document.createElement("ol");
  list.className = "upcoming";
  for (const e of q.upcoming) list.append(text("li", e.title + " — " + e.author));
  root.append(now, list, text("p", q.total + (q.total === 1 ? " track" : " tracks") + " queued.", "muted total"));
}

function liveQueue() {
  const root = document.getElementById("queue");
  if (!root || !window.EventSource) return;
  const source = new EventSource(root.dataset.events);
  source.addEventListener("queue", (event) => renderQueue(root, JSON.parse(event.data)));
}

function confirms() {
  for (const form of document.querySelectorAll("form.confirm")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm || "Are you sure?")) event.preventDefault();
    });
  }
}

function copyButtons() {
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      const target = document.getElementById(button.dataset.copy);
      if (!target || !navigator.clipboard) return;
      await navigator.clipboard.writeText(target.textContent.trim());
      button.textContent = "Copied";
    });
  }
}

document.addEventListener("DOMContentLoaded", () => { liveQueue(); confirms(); copyButtons(); });
