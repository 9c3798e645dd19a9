// Asgard's dashboard: the log viewer, loaded by the pages that show logs.
//
// <pre data-log-src="/clusters/c/apps/web/logs" data-log-tail="200" data-log-follow>
// gets a bar of buttons: Reload (the last lines, ?tail=N), Follow (&follow=true, read as
// a stream with fetch and a ReadableStream), and Resume. Following pauses while the
// reader has scrolled up (new text is held, and counted), and resumes when they scroll
// back to the bottom or press Resume. data-log-lazy inside a closed <details> (a
// workflow's stages): nothing is fetched until it is opened. Plain ES2020.
"use strict";

(() => {
  const MAX_LOG_CHARS = 2000000;

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
          if (!this.pre.isConnected) {
            // an action put another page in the body: nobody reads this one any more
            controller.abort();
            return;
          }
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
    enhance(document);
    document.addEventListener("asgard:refreshed", () => enhance(document));
  }

  if (document.readyState === "complete") start();
  else document.addEventListener("DOMContentLoaded", start);
})();
