// Asgard's dashboard: what JavaScript adds to pages the server has already rendered.
//
// Every page works without this file: it only keeps the live regions current, asks
// before a write, and tails and follows logs (graphs: asgard-graph.js, on the pages that
// draw one). Plain ES2020, no build step,
// no inline script (the Content-Security-Policy allows none).
//
//  - <body data-live-kinds="app,task" data-live-clusters="">: one EventSource on
//    /events for those kinds; on an event, at most once a second, the page is fetched
//    again (HX-Request: true) and every [data-live][id] element is replaced by its copy.
//    Hidden tab: the EventSource is closed; visible again: reopened, and one refresh.
//  - <form data-confirm="Delete app web?">: a modal <dialog> asks first ({field} in the
//    text is replaced by the value of that form field).
//  - <pre data-log-src="/clusters/c/apps/web/logs" data-log-tail="200" data-log-follow>:
//    the last lines (?tail=N), or follow (&follow=true, read as a stream); following
//    pauses while the reader has scrolled up. data-log-lazy in a closed <details>: on open.
"use strict";

(() => {
  const MIN_REFRESH_MS = 1000;
  const MAX_LOG_CHARS = 2000000;

  // ---------------------------------------------------------------- live regions

  const live = {
    source: null,
    lastAt: 0,
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
      if (!response.ok) return;
      swapRegions(new DOMParser().parseFromString(await response.text(), "text/html"));
    } catch (error) {
      console.warn("asgard: refresh failed", error);
    } finally {
      live.inFlight = false;
      if (live.again) {
        live.again = false;
        scheduleRefresh();
      }
    }
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
      enhance(region);
    }
    if (focusedId && document.activeElement === document.body) {
      const again = document.getElementById(focusedId);
      if (again) again.focus();
    }
    document.dispatchEvent(new CustomEvent("asgard:refreshed")); // graphs redraw on it
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

  // ------------------------------------------------------------------- logs

  function withQuery(src, params) {
    const url = new URL(src, location.href);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  class LogViewer {
    constructor(pre) {
      this.pre = pre;
      this.src = pre.dataset.logSrc;
      this.tail = pre.dataset.logTail || "200";
      this.controller = null;
      this.held = "";
      this.paused = false;
      pre.tabIndex = 0; // a scrollable region is reachable by keyboard
      this.status = document.createElement("span");
      this.status.className = "log-status";
      this.status.setAttribute("role", "status");
      this.followButton = button("Follow", () => (this.controller ? this.stop() : this.follow()));
      this.followButton.setAttribute("aria-pressed", "false");
      this.resumeButton = button("Resume", () => this.resume());
      this.resumeButton.hidden = true;
      const bar = document.createElement("div");
      bar.className = "log-controls";
      bar.append(button("Reload", () => this.load()), this.followButton, this.resumeButton, this.status);
      pre.before(bar);
      pre.addEventListener("scroll", () => this.onScroll());
      if ("logFollow" in pre.dataset) this.follow();
      else this.load();
    }

    atBottom() {
      const p = this.pre;
      return p.scrollHeight - p.scrollTop - p.clientHeight < 8;
    }

    say(text) {
      this.status.textContent = text;
    }

    async load() {
      this.stop();
      this.say("Loading…");
      try {
        const response = await fetch(withQuery(this.src, { tail: this.tail }), {
          credentials: "same-origin",
        });
        const text = await response.text();
        this.pre.textContent = response.ok ? text : `Logs unavailable (${response.status}): ${text}`;
        this.pre.scrollTop = this.pre.scrollHeight;
        this.say(response.ok ? `Last ${this.tail} lines` : "Logs unavailable");
      } catch (error) {
        this.say(`Logs unavailable: ${error}`);
      }
    }

    async follow() {
      this.stop();
      const controller = new AbortController();
      this.controller = controller;
      this.followButton.textContent = "Stop following";
      this.followButton.setAttribute("aria-pressed", "true");
      this.pre.textContent = "";
      this.say("Following");
      try {
        const url = withQuery(this.src, { tail: this.tail, follow: "true" });
        const response = await fetch(url, { credentials: "same-origin", signal: controller.signal });
        if (!response.ok || !response.body) {
          this.pre.textContent = `Logs unavailable (${response.status}): ${await response.text()}`;
          return;
        }
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.append(value);
        }
        this.say("The stream ended");
      } catch (error) {
        if (error.name !== "AbortError") this.say(`The stream broke: ${error}`);
      } finally {
        if (this.controller === controller) this.ended();
      }
    }

    append(text) {
      if (this.paused) {
        this.held = (this.held + text).slice(-MAX_LOG_CHARS);
        const lines = (this.held.match(/\n/g) || []).length;
        this.say(`Paused while you read: ${lines} new line${lines === 1 ? "" : "s"}`);
        return;
      }
      const stick = this.atBottom();
      this.pre.append(text);
      if (this.pre.textContent.length > MAX_LOG_CHARS) {
        this.pre.textContent = this.pre.textContent.slice(-MAX_LOG_CHARS);
      }
      if (stick) this.pre.scrollTop = this.pre.scrollHeight;
    }

    onScroll() {
      if (!this.controller) return;
      if (!this.atBottom() && !this.paused) {
        this.paused = true;
        this.resumeButton.hidden = false;
        this.say("Paused while you read");
      } else if (this.atBottom() && this.paused) {
        this.resume();
      }
    }

    resume() {
      this.paused = false;
      this.resumeButton.hidden = true;
      const held = this.held;
      this.held = "";
      if (held) this.pre.append(held);
      this.pre.scrollTop = this.pre.scrollHeight;
      this.say(this.controller ? "Following" : "");
    }

    stop() {
      if (this.controller) this.controller.abort();
      this.ended();
    }

    ended() {
      this.controller = null;
      if (this.paused) this.resume();
      this.followButton.textContent = "Follow";
      this.followButton.setAttribute("aria-pressed", "false");
    }
  }

  // ------------------------------------------------------------------ start

  function enhance(root) {
    for (const pre of root.querySelectorAll("pre[data-log-src]")) {
      if (pre.dataset.logReady) continue;
      pre.dataset.logReady = "yes";
      const details = pre.closest("details");
      if ("logLazy" in pre.dataset && details && !details.open) {
        // a closed <details> (a workflow's stages): fetch its logs only when opened
        const opened = () => {
          if (!details.open) return;
          details.removeEventListener("toggle", opened);
          new LogViewer(pre);
        };
        details.addEventListener("toggle", opened);
      } else {
        new LogViewer(pre);
      }
    }
  }

  function start() {
    document.addEventListener("submit", onSubmit);
    document.addEventListener("visibilitychange", onVisibility);
    enhance(document);
    if (!document.hidden) connect();
  }

  // Deferred scripts run before DOMContentLoaded, and a page's own deferred scripts come
  // after this one: start once all of them have run.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
