// Asgard's dashboard: what JavaScript adds to pages the server has already rendered.
//
// Every page works without this file: it only keeps the live regions current and asks
// before a write (logs: asgard-logs.js, graphs: asgard-graph.js, loaded by the pages
// that show them). Plain ES2020, no build step, no inline script (the
// Content-Security-Policy allows none).
//
//  - <body data-live-kinds="app,task" data-live-clusters="">: one EventSource on
//    /events for those kinds; on an event, at most once a second, the page is fetched
//    again (HX-Request: true) and every [data-live][id] element is replaced by its copy.
//    Hidden tab: the EventSource is closed; visible again: reopened, and one refresh.
//  - <form data-confirm="Delete app web?">: a modal <dialog> asks first ({field} in the
//    text is replaced by the value of that form field).
"use strict";

(() => {
  const MIN_REFRESH_MS = 1000;

  // ---------------------------------------------------------------- live regions

  const live = {
    source: null,
    lastAt: 0,
    okAt: Date.now(),
    timer: null,
    inFlight: false,
    again: false,
  };

  function liveKinds() {
    return (document.body.dataset.liveKinds || "").split(",").map((k) => k.trim()).filter(Boolean);
  }

  function eventsUrl() {
    const params = new URLSearchParams({ kind: liveKinds().join(",") });
    const clusters = (document.body.dataset.liveClusters || "").trim();
    if (clusters) params.set("cluster", clusters);
    return "/events?" + params.toString();
  }

  function connect() {
    const kinds = liveKinds();
    if (!kinds.length || live.source || !("EventSource" in window)) return;
    const source = new EventSource(eventsUrl(), { withCredentials: true });
    for (const kind of [...kinds, "resync", "overflow"]) {
      source.addEventListener(kind, scheduleRefresh);
    }
    source.onmessage = scheduleRefresh;
    live.source = source;
  }

  function disconnect() {
    if (live.source) live.source.close();
    live.source = null;
    clearTimeout(live.timer);
    live.timer = null;
  }

  function scheduleRefresh() {
    if (live.timer) return;
    if (live.inFlight) {
      live.again = true;
      return;
    }
    const wait = Math.max(0, live.lastAt + MIN_REFRESH_MS - Date.now());
    live.timer = setTimeout(() => {
      live.timer = null;
      refresh();
    }, wait);
  }

  async function refresh() {
    live.inFlight = true;
    live.lastAt = Date.now();
    try {
      const response = await fetch(location.href, {
        headers: { "HX-Request": "true", Accept: "text/html" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.redirected && new URL(response.url).pathname !== location.pathname) {
        location.reload(); // the session ended: show the login page the server chose
        return;
      }
      if (!response.ok) {
        liveNote(`Not updated since ${since()}: the server answered ${response.status}.`);
        return;
      }
      live.okAt = Date.now();
      liveNote("");
      swapRegions(new DOMParser().parseFromString(await response.text(), "text/html"));
    } catch (error) {
      liveNote(`Not updated since ${since()}: ${error}`);
    } finally {
      live.inFlight = false;
      if (live.again) {
        live.again = false;
        scheduleRefresh();
      }
    }
  }

  // One line above the page when a refresh failed (a cluster down answers 502), so a
  // page that stopped changing says so; gone with the next refresh that works.
  function since() {
    return new Date(live.okAt).toLocaleTimeString();
  }

  function liveNote(text) {
    let note = document.getElementById("live-note");
    if (!text) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.id = "live-note";
      note.className = "live-note";
      note.setAttribute("role", "status");
      const main = document.querySelector("main") || document.body;
      main.prepend(note);
    }
    note.textContent = text;
  }

  function swapRegions(fetched) {
    const focusedId = document.activeElement && document.activeElement.id;
    for (const region of document.querySelectorAll("[data-live][id]")) {
      const fresh = fetched.getElementById(region.id);
      if (!fresh || fresh.innerHTML === region.innerHTML) continue;
      const open = [...region.querySelectorAll("details[id][open]")].map((d) => d.id);
      region.innerHTML = fresh.innerHTML;
      for (const id of open) {
        const details = document.getElementById(id);
        if (details) details.open = true;
      }
      if (window.htmx) window.htmx.process(region);
    }
    if (focusedId && document.activeElement === document.body) {
      const again = document.getElementById(focusedId);
      if (again) again.focus();
    }
    // asgard-logs.js and asgard-graph.js take up what the new regions hold
    document.dispatchEvent(new CustomEvent("asgard:refreshed"));
  }

  function onVisibility() {
    if (document.hidden) {
      disconnect();
      return;
    }
    connect();
    scheduleRefresh();
  }

  // ------------------------------------------------------------ confirmations

  let dialog = null;

  function confirmDialog() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-text");
    const title = document.createElement("h2");
    title.id = "confirm-dialog-title";
    title.textContent = "Are you sure?";
    const text = document.createElement("p");
    text.id = "confirm-dialog-text";
    const buttons = document.createElement("div");
    buttons.className = "confirm-dialog-buttons";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.value = "cancel";
    cancel.textContent = "Cancel";
    const ok = document.createElement("button");
    ok.type = "button";
    ok.value = "ok";
    ok.className = "danger";
    ok.textContent = "Confirm";
    buttons.append(cancel, ok);
    dialog.append(title, text, buttons);
    cancel.addEventListener("click", () => dialog.close("cancel"));
    ok.addEventListener("click", () => dialog.close("ok"));
    dialog.addEventListener("keydown", trapFocus);
    document.body.append(dialog);
    return dialog;
  }

  function trapFocus(event) {
    if (event.key !== "Tab") return;
    const focusable = [...dialog.querySelectorAll("button, [href], input, select, textarea")];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function confirmText(form) {
    const data = new FormData(form);
    return form.dataset.confirm.replace(/\{([a-z_]+)\}/g, (whole, name) => {
      const value = data.get(name);
      return typeof value === "string" ? value : whole;
    });
  }

  function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (form.dataset.confirmed === "yes") {
      delete form.dataset.confirmed;
      return;
    }
    event.preventDefault();
    const submitter = event.submitter || null;
    const box = confirmDialog();
    box.querySelector("#confirm-dialog-text").textContent = confirmText(form);
    const ok = box.querySelector("button[value=ok]");
    ok.textContent = (submitter && submitter.textContent.trim()) || "Confirm";
    box.returnValue = "";
    box.addEventListener(
      "close",
      () => {
        if (box.returnValue === "ok") {
          form.dataset.confirmed = "yes";
          if (submitter) form.requestSubmit(submitter);
          else form.requestSubmit();
        } else if (submitter) {
          submitter.focus();
        }
      },
      { once: true },
    );
    box.showModal(); // Escape closes it with returnValue "": cancelled
    box.querySelector("button[value=cancel]").focus();
  }

  // ------------------------------------------------------------------ start

  function start() {
    document.addEventListener("submit", onSubmit);
    document.addEventListener("visibilitychange", onVisibility);
    if (!document.hidden) connect();
  }

  // Deferred scripts run before DOMContentLoaded, and a page's own deferred scripts come
  // after this one: start once all of them have run.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
