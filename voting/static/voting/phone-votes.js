// Votes that survive flaky Wi-Fi. The phone remembers the dots the attendee WANTS on each
// proposal (in localStorage, so a reload or a closed tab keeps them) until the server has
// acknowledged them. Because `PUT …/votes/<id> {"dots": n}` sets rather than adds, replaying
// the wanted number is always safe, however many earlier attempts did or did not arrive.
//
// Replay order matters for the budget: dots taken back are sent before dots added, so moving
// a dot from A to B offline never looks like a sixth dot to the server.
//
// Per proposal the status is one of: "pending" (waiting for a connection), "saving",
// "saved" (acknowledged: a 200 from the server), "refused" (with the server's reason).

import { ApiError, NetworkError } from "./api.js";

const SAVED_FOR_MS = 4000;

export class VoteQueue {
  constructor({ slug, attendee, api, confirmed, onMe, onChange, onRefused, onSignedOut }) {
    this.key = `unconf:${slug}:pending`;
    this.api = api;
    this.confirmed = confirmed; // () => {proposal id: dots} the server last acknowledged
    this.onMe = onMe;
    this.onChange = onChange;
    this.onRefused = onRefused;
    this.onSignedOut = onSignedOut;
    this.status = new Map(); // id -> {state, reason}
    this.running = false;
    this.again = false;
    this.retryTimer = null;
    this.failures = 0;
    this.wanted = this.load(attendee);
    for (const id of Object.keys(this.wanted)) this.status.set(id, { state: "pending" });
  }

  load(attendee) {
    try {
      const stored = JSON.parse(localStorage.getItem(this.key) || "null");
      // Votes queued by someone else on this phone (a badge moved here) are not ours to send.
      if (stored && stored.attendee === attendee && stored.wanted) {
        this.attendee = attendee;
        return stored.wanted;
      }
    } catch {
      /* unreadable storage: start empty */
    }
    this.attendee = attendee;
    return {};
  }

  save() {
    try {
      if (Object.keys(this.wanted).length) {
        localStorage.setItem(this.key, JSON.stringify({ attendee: this.attendee, wanted: this.wanted }));
      } else {
        localStorage.removeItem(this.key);
      }
    } catch {
      /* private mode or full: the vote still goes out while the page is open */
    }
  }

  /** The dots to show on a proposal: what the attendee wants, else what the server holds. */
  dots(id) {
    const key = String(id);
    if (key in this.wanted) return this.wanted[key];
    return this.confirmed()[key] || 0;
  }

  pendingCount() {
    return Object.keys(this.wanted).length;
  }

  stateOf(id) {
    return this.status.get(String(id)) || null;
  }

  want(id, dots) {
    const key = String(id);
    this.wanted[key] = dots;
    this.status.set(key, { state: navigator.onLine === false ? "pending" : "saving" });
    this.save();
    this.onChange(key);
    this.flush();
  }

  forget(key, state, reason = "") {
    delete this.wanted[key];
    this.save();
    this.status.set(key, { state, reason });
    if (state === "saved") {
      setTimeout(() => {
        const current = this.status.get(key);
        if (current && current.state === "saved") {
          this.status.delete(key);
          this.onChange(key);
        }
      }, SAVED_FOR_MS);
    }
    this.onChange(key);
  }

  /** Send every wanted vote, takebacks first. Safe to call at any time, as often as you like. */
  async flush() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    clearTimeout(this.retryTimer);
    try {
      do {
        this.again = false;
        await this.sendAll();
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  async sendAll() {
    const confirmed = this.confirmed();
    const order = Object.keys(this.wanted).sort(
      (a, b) => this.wanted[a] - (confirmed[a] || 0) - (this.wanted[b] - (confirmed[b] || 0)),
    );
    for (const key of order) {
      if (!(key in this.wanted)) continue;
      const dots = this.wanted[key];
      this.status.set(key, { state: "saving" });
      this.onChange(key);
      try {
        const me = await this.api.put(`/votes/${key}`, { dots });
        this.failures = 0;
        this.onMe(me);
        if (this.wanted[key] === dots) this.forget(key, "saved");
        else this.again = true; // changed while in flight: send the newer wish
      } catch (error) {
        if (error instanceof NetworkError) {
          this.markPending();
          // The "online" event or the feed coming back calls flush() again; a lossy network
          // that never drops out entirely gets a retry too, less and less often.
          this.failures += 1;
          const delay = Math.min(30, 2 ** this.failures) * (0.75 + Math.random() / 2) * 1000;
          this.retryTimer = setTimeout(() => this.flush(), delay);
          return;
        }
        if (error instanceof ApiError && error.status === 401) {
          // Signed out here (the badge moved to another phone): nothing more can be sent.
          for (const pending of Object.keys(this.wanted)) this.forget(pending, "refused", error.detail);
          this.onSignedOut();
          return;
        }
        if (error instanceof ApiError && error.retryable) {
          this.markPending();
          this.retryTimer = setTimeout(() => this.flush(), Math.max(2, error.retryAfter || 3) * 1000);
          return;
        }
        // Refused for good (voting closed, budget spent, proposal gone): say why, then
        // correct the phone from the server's own state.
        this.forget(key, "refused", error.detail || error.code || "");
        this.onRefused(key, error.detail || error.code || "");
        await this.refreshMe();
      }
    }
  }

  markPending() {
    for (const key of Object.keys(this.wanted)) this.status.set(key, { state: "pending" });
    this.onChange(null);
  }

  async refreshMe() {
    try {
      this.onMe(await this.api.get("/me"));
    } catch {
      /* the next snapshot corrects it */
    }
  }
}
