// Asgard's dashboard: what JavaScript adds to pages the server has already rendered.
//
// Every page works without this file and without htmx: the pages are rendered on the
// server and the actions are plain form POSTs. With them, htmx and its SSE extension do
// the live parts and the actions, and this file sets what htmx leaves open (logs:
// asgard-logs.js, graphs: asgard-graph.js, loaded by the pages that show them). Plain
// ES2020, no build step, no inline script (the Content-Security-Policy allows none, and
// htmx runs with allowEval off: no hx-on, no js: values).
//
//  - Live: base.html puts <div id="live" hx-ext="sse" sse-connect="/events?kind=...">
//    around <span id="live-refresh" hx-get="<this page>" hx-trigger="sse:app, ..."
//    hx-select-oob="<the [data-live][id] regions>" hx-swap="none">. Each event makes htmx
//    ask (htmx:confirm) before it gets the page: the request is held here and the latest
//    one is issued at most once a second, so a burst of events is one request and the
//    last change always shows. A region whose HTML did not change is left alone; an open
//    <details> in one stays open. Hidden tab: #live is removed through htmx (its cleanup
//    closes the EventSource); visible again: put back, processed, and one refresh.
//  - Actions: <form hx-post hx-confirm="Delete app web?">: htmx posts it with the
//    X-CSRF-Token header added here (the form keeps its csrf_token field); its question
//    is asked in a modal <dialog> ({field} in the text is replaced by that form field's
//    value). The server answers with HX-Location (the page to show, swapped into the
//    body) or a failure page (403, 422, 502...), which is swapped into the body too.
"use strict";

(() => {
  const MIN_REFRESH_MS = 1000;
  const LIVE_ID = "live";
  const TRIGGER_ID = "live-refresh";
  const LOGIN_PATH = "/ui/login";

  function htmx() {
    return window.htmx;
  }

  function pathOf(url) {
    return url ? new URL(url, location.href).pathname : location.pathname;
  }

  function isTrigger(elt) {
    return elt instanceof Element && elt.id === TRIGGER_ID;
  }

  // ---------------------------------------------------------------- live regions

  const live = {
    lastAt: -MIN_REFRESH_MS, // performance.now() of the last refresh sent
    okAt: Date.now(),
    timer: null,
    issue: null, // the latest request htmx asked to make, held until the next boundary
    parked: null, // #live while the tab is hidden
  };

  // htmx 2 fires htmx:confirm before every request; preventDefault() stops it, and
  // detail.issueRequest() makes it later (without asking again).
  function holdRefresh(event) {
    event.preventDefault();
    live.issue = event.detail.issueRequest;
    if (live.timer) return;
    const wait = Math.max(0, live.lastAt + MIN_REFRESH_MS - performance.now());
    live.timer = setTimeout(releaseRefresh, wait);
  }

  function releaseRefresh() {
    live.timer = null;
    if (performance.now() < live.lastAt + MIN_REFRESH_MS) {
      // a timer may fire a little early: wait for the boundary itself
      live.timer = setTimeout(releaseRefresh, live.lastAt + MIN_REFRESH_MS - performance.now());
      return;
    }
    const issue = live.issue;
    live.issue = null;
    if (!issue || document.hidden) return;
    live.lastAt = performance.now();
    issue();
  }

  // The second is counted from when the refresh is sent, not from when it was issued:
  // htmx does work between the two (more of it on a busy page), and the promise is at
  // most one request a second.
  function onBeforeSend(event) {
    if (isTrigger(event.detail.elt)) live.lastAt = performance.now();
  }

  function dropHeld() {
    clearTimeout(live.timer);
    live.timer = null;
    live.issue = null;
  }

  // Hidden tab: #live goes, through an htmx swap so that htmx cleans it up: the SSE
  // extension closes its EventSource then. A plain remove() would leave it open.
  function park() {
    const box = document.getElementById(LIVE_ID);
    dropHeld();
    if (!box || !htmx()) return;
    live.parked = box.cloneNode(true);
    htmx().swap(box, "", { swapStyle: "delete" });
  }

  function unpark() {
    const parked = live.parked;
    live.parked = null;
    if (parked && !document.getElementById(LIVE_ID) && htmx()) {
      // The refresh below shows what was missed: the stream starts from now, not again
      // after the newest event the page was first rendered with (after=).
      const url = new URL(parked.getAttribute("sse-connect"), location.href);
      url.searchParams.delete("after");
      parked.setAttribute("sse-connect", url.pathname + url.search);
      document.body.append(parked);
      htmx().process(parked);
    }
    const trigger = document.getElementById(TRIGGER_ID);
    if (trigger && htmx()) htmx().trigger(trigger, "asgard:refresh"); // what was missed
  }

  function onVisibility() {
    if (document.hidden) park();
    else unpark();
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

  // Each region hx-select-oob names: left alone when unchanged (its focus, scroll and
  // selection stay), else replaced with its <details> kept open as they were.
  function onOobBeforeSwap(event) {
    const current = event.detail.target;
    const fragment = event.detail.fragment;
    if (!(current instanceof Element) || !current.matches("[data-live][id]") || !fragment) return;
    const fresh = fragment.firstElementChild;
    if (!fresh) return;
    if (fresh.innerHTML === current.innerHTML) {
      event.detail.shouldSwap = false;
      return;
    }
    for (const open of current.querySelectorAll("details[id][open]")) {
      const again = fresh.querySelector(`details[id="${CSS.escape(open.id)}"]`);
      if (again) again.open = true;
    }
  }

  function onRefreshed(event) {
    if (!event.detail.successful) return;
    live.okAt = Date.now();
    liveNote("");
    // asgard-logs.js and asgard-graph.js take up what the new regions hold
    document.dispatchEvent(new CustomEvent("asgard:refreshed"));
  }

  // ------------------------------------------------------------ confirmations

  let dialog = null;

  function confirmDialog() {
    if (dialog && dialog.isConnected) return dialog; // a page swapped into the body drops it
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

  function confirmText(form, question) {
    const data = new FormData(form);
    return question.replace(/\{([a-z_]+)\}/g, (whole, name) => {
      const value = data.get(name);
      return typeof value === "string" ? value : whole;
    });
  }

  // hx-confirm's question, asked in the dialog instead of window.confirm(); confirmed,
  // issueRequest(true) sends the request htmx held (true: no window.confirm after).
  function askFirst(event) {
    const form = event.detail.elt;
    event.preventDefault();
    const trigger = event.detail.triggeringEvent;
    const submitter = (trigger && trigger.submitter) || form.querySelector("[type=submit]");
    const box = confirmDialog();
    if (box.open) return;
    box.querySelector("#confirm-dialog-text").textContent = confirmText(form, event.detail.question);
    const ok = box.querySelector("button[value=ok]");
    ok.textContent = (submitter && submitter.textContent.trim()) || "Confirm";
    box.returnValue = "";
    box.addEventListener(
      "close",
      () => {
        if (box.returnValue === "ok") event.detail.issueRequest(true);
        else if (submitter) submitter.focus();
      },
      { once: true },
    );
    box.showModal(); // Escape closes it with returnValue "": cancelled
    box.querySelector("button[value=cancel]").focus();
  }

  // ------------------------------------------------------------------ htmx events

  function onConfirm(event) {
    const elt = event.detail.elt;
    if (isTrigger(elt)) holdRefresh(event);
    else if (elt instanceof HTMLFormElement && event.detail.question) askFirst(event);
  }

  // Every write carries the session's CSRF token as a header too. A live refresh asks
  // for the page as the address bar says now: a search or a sort swapped in by htmx
  // (hx-push-url) changed the view since the page was rendered.
  function onConfigRequest(event) {
    if (event.detail.verb === "get") {
      if (isTrigger(event.detail.elt) && pathOf(event.detail.path) === location.pathname) {
        event.detail.path = location.pathname + location.search;
      }
      return;
    }
    const meta = document.querySelector("meta[name=csrf-token]");
    const token = meta && meta.content;
    if (token) event.detail.headers["X-CSRF-Token"] = token;
  }

  function onBeforeSwap(event) {
    const detail = event.detail;
    const answered = pathOf(detail.pathInfo && detail.pathInfo.responsePath);
    if (isTrigger(detail.elt)) {
      if (answered !== location.pathname) {
        // the session ended: the server sent the refresh to the login page
        event.preventDefault();
        location.reload();
        return;
      }
      const asked = detail.pathInfo && detail.pathInfo.requestPath;
      if (asked && asked !== location.pathname + location.search) {
        // asked before a search or a sort changed the view, answered after it: showing
        // it would undo the search. The view as it is now is asked for instead.
        event.preventDefault();
        htmx().trigger(detail.elt, "asgard:refresh");
      }
      return;
    }
    if (detail.target !== document.body) return;
    if (answered === LOGIN_PATH && location.pathname !== LOGIN_PATH) {
      event.preventDefault();
      location.reload(); // the login page, coming back to this one
      return;
    }
    if (detail.xhr.status >= 400) {
      // an action's failure page (403, 422, 502...): shown, as without JavaScript
      detail.shouldSwap = true;
      detail.isError = false;
    }
  }

  // A new page in the body (after an action): the reader is taken to its message, and
  // what the other scripts enhance is taken up.
  function onAfterSwap(event) {
    if (event.detail.target !== document.body) return;
    live.parked = null;
    dropHeld();
    const flash = document.getElementById("flash");
    const focus = flash || document.getElementById("main");
    if (focus) {
      if (flash) flash.tabIndex = -1;
      focus.focus();
    }
    document.dispatchEvent(new CustomEvent("asgard:refreshed"));
    if (document.hidden) park();
  }

  function onResponseError(event) {
    if (!isTrigger(event.detail.elt)) return;
    liveNote(`Not updated since ${since()}: the server answered ${event.detail.xhr.status}.`);
  }

  function onSendError(event) {
    if (!isTrigger(event.detail.elt)) return;
    liveNote(`Not updated since ${since()}: the server did not answer.`);
  }

  function onAfterRequest(event) {
    if (isTrigger(event.detail.elt)) onRefreshed(event);
  }

  // ------------------------------------------------------------------ start

  function start() {
    document.addEventListener("htmx:confirm", onConfirm);
    document.addEventListener("htmx:configRequest", onConfigRequest);
    document.addEventListener("htmx:beforeSend", onBeforeSend);
    document.addEventListener("htmx:beforeSwap", onBeforeSwap);
    document.addEventListener("htmx:afterSwap", onAfterSwap);
    document.addEventListener("htmx:oobBeforeSwap", onOobBeforeSwap);
    document.addEventListener("htmx:responseError", onResponseError);
    document.addEventListener("htmx:sendError", onSendError);
    document.addEventListener("htmx:afterRequest", onAfterRequest);
    document.addEventListener("visibilitychange", onVisibility);
    if (document.hidden) park();
  }

  // Deferred scripts run before DOMContentLoaded, htmx's first: htmx processes the page
  // (and the SSE extension connects) on DOMContentLoaded, just before this starts.
  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
