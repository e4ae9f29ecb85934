// The attendee's phone: vote with dots, propose sessions, follow the live ranking and see
// "my schedule". State arrives over the live feed (feed.js); votes and proposals go over HTTP.
// Attendee text is only ever written with textContent; no markup is built from strings.

import { connectFeed } from "./feed.js";
import { ApiError, eventApi } from "./api.js";
import { $, el, useEventTimeZone } from "./dom.js";
import { fill, plurals } from "./i18n.js";
import { createList } from "./phone-list.js";
import { renderMySchedule } from "./phone-schedule.js";
import { VoteQueue } from "./phone-votes.js";
import { clock, countsVisible as eventCountsVisible, votingOpen as eventVotingOpen, votingOver } from "./rank.js";

const DATA = JSON.parse(document.getElementById("page-data").textContent);
useEventTimeZone(DATA.time_zone);
// Every user-facing sentence, translated by Django (voting/pages.py PHONE_STRINGS).
const T = DATA.strings;
const SLUG = DATA.slug;
const STATE_KEY = `unconf:${SLUG}:state`;
const HTTP_FALLBACK_MS = 6000;
const POLL_MS = 20000;

// Without an answer in 12 s a request counts as lost (the vote queue retries it).
const api = eventApi(SLUG, { timeout: 12000, csrfCookie: DATA.csrf_cookie });

function byId(proposals) {
  return new Map(proposals.map((p) => [String(p.id), p]));
}

// Plural forms by the page language's own rules (i18n.js), as on every other page.
const plural = plurals(T);

// --- state

const state = {
  event: DATA.event,
  proposals: new Map(), // id -> published proposal, as the feed sends it
  own: new Map(), // id -> my proposals that are not on the public list (pending, hidden)
  me: null,
  participation: null,
  schedule: null,
  offset: 0, // server clock minus phone clock (ms): the countdown never trusts the phone clock
  connection: "connecting",
  loaded: false,
  firstIds: null, // ids on the board when this page first saw it: later ones are tagged "new"
  signedOut: false,
  sawVotingOpen: false, // to tell "not open yet" from "closed" when voting is off
  needMe: false,
  awaitingSnapshot: false,
  editing: null,
  search: "",
};

const queue = new VoteQueue({
  slug: SLUG,
  attendee: DATA.attendee,
  api,
  confirmed: () => (state.me ? state.me.votes : {}),
  onMe: (me) => applyMe(me),
  onChange: () => scheduleRender(),
  // The card says it too, but it may be scrolled away: say it where everyone sees it.
  onRefused: (id, reason) => toast(fill(T.refused, { reason: reason || T.error })),
  onSignedOut: () => signOut(),
});

function serverNow() {
  return Date.now() + state.offset;
}

function syncClock(serverTime) {
  const parsed = Date.parse(serverTime);
  if (!Number.isNaN(parsed)) state.offset = parsed - Date.now();
}

const countsVisible = () => eventCountsVisible(state.event);
const votingOpen = () => eventVotingOpen(state.event, serverNow());

function budget() {
  return state.me ? state.me.budget : state.event.votes_per_attendee;
}

function remaining() {
  let used = 0;
  const ids = new Set([...Object.keys(state.me ? state.me.votes : {}), ...Object.keys(queue.wanted)]);
  for (const id of ids) used += queue.dots(id);
  return budget() - used;
}

function myVotedIds() {
  const ids = new Set([...Object.keys(state.me ? state.me.votes : {}), ...Object.keys(queue.wanted)]);
  return [...ids].filter((id) => queue.dots(id) > 0);
}

function applyMe(me) {
  if (!me || !me.attendee) return;
  if (DATA.attendee && me.attendee.id !== DATA.attendee) {
    // Another attendee's state (a different badge on this phone): start over cleanly, once.
    const key = `unconf:${SLUG}:reloaded`;
    if (Date.now() - Number(sessionStorage.getItem(key) || 0) > 10000) {
      sessionStorage.setItem(key, String(Date.now()));
      window.location.reload();
    }
    return;
  }
  state.me = me;
  if (me.server_time) syncClock(me.server_time);
  refreshOwnIfNeeded();
  scheduleRender();
  persist();
}

function applySnapshot(message) {
  syncClock(message.server_time);
  if (state.awaitingSnapshot) {
    state.awaitingSnapshot = false;
    state.connection = "live";
  }
  state.event = message.event;
  state.participation = message.participation;
  state.schedule = message.schedule || null;
  state.checkedInCounts = message.checked_in || {};
  state.proposals = byId(message.proposals.filter((p) => p.status === "published"));
  if (state.firstIds === null) state.firstIds = new Set(state.proposals.keys());
  state.loaded = true;
  if (message.me) {
    state.needMe = false;
    applyMe(message.me);
    queue.flush();
  } else if (state.needMe) {
    state.needMe = false;
    loadMe();
  }
  refreshOwnIfNeeded();
  scheduleRender();
  persist();
}

function applyTally(message) {
  syncClock(message.server_time);
  state.participation = message.participation;
  if (message.counts) {
    for (const [id, count] of Object.entries(message.counts)) {
      const proposal = state.proposals.get(id);
      if (proposal) Object.assign(proposal, count);
    }
  }
  scheduleRender();
  persist();
}

async function loadMe() {
  try {
    applyMe(await api.get("/me"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
  }
}

// A copy of the last state, so that a reload without a connection still shows the board.
// Written a moment after changes (tallies come often) and at once when the page goes away.
let persistTimer = null;
function persist() {
  if (persistTimer === null) persistTimer = setTimeout(persistNow, 500);
}

function persistNow() {
  clearTimeout(persistTimer);
  persistTimer = null;
  try {
    localStorage.setItem(
      STATE_KEY,
      JSON.stringify({
        attendee: DATA.attendee,
        event: state.event,
        proposals: [...state.proposals.values()],
        own: [...state.own.values()],
        me: state.me,
        participation: state.participation,
        schedule: state.schedule,
        sawVotingOpen: state.sawVotingOpen,
      }),
    );
  } catch {
    /* storage full or disabled: only offline reloads lose out */
  }
}

function restore() {
  try {
    const saved = JSON.parse(localStorage.getItem(STATE_KEY) || "null");
    if (!saved || saved.attendee !== DATA.attendee) return;
    state.event = saved.event || state.event;
    state.proposals = byId(saved.proposals || []);
    state.own = byId(saved.own || []);
    state.me = saved.me;
    state.participation = saved.participation;
    state.schedule = saved.schedule;
    state.sawVotingOpen = Boolean(saved.sawVotingOpen);
    state.firstIds = new Set(state.proposals.keys());
    state.loaded = true;
  } catch {
    /* a broken copy is simply ignored */
  }
}

// My proposals that are not on the public board (waiting for approval, hidden) come from HTTP.
let missingOwn = "";
async function refreshOwnIfNeeded() {
  if (!state.me) return;
  const missing = state.me.proposals.map(String).filter((id) => !state.proposals.has(id));
  const signature = missing.sort().join(",");
  if (signature === missingOwn) return;
  missingOwn = signature;
  if (!missing.length) {
    state.own.clear();
    scheduleRender();
    return;
  }
  try {
    const list = await api.get("/proposals?order=random");
    state.own = byId(list.filter((p) => p.mine && p.status !== "published"));
    scheduleRender();
    persist();
  } catch {
    missingOwn = ""; // try again with the next state
  }
}

function signOut() {
  state.signedOut = true;
  scheduleRender();
}

// --- rendering

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  renderConnection();
  renderMeter();
  list.render();
  proposing.render();
  renderSchedule();
}

function renderConnection() {
  const conn = $("conn");
  // The phone knows it is offline before the socket notices (its pings take a while).
  const key = navigator.onLine === false ? "offline" : state.connection;
  conn.dataset.state = key;
  $("conn-text").textContent = T[key] || T.reconnecting;
  const banner = $("signed-out");
  banner.hidden = !state.signedOut;
}

function renderMeter() {
  const total = budget();
  const left = Math.max(0, remaining());
  const dots = $("meter-dots");
  if (dots.childElementCount !== Math.min(total, 12) || dots.dataset.total !== String(total)) {
    dots.replaceChildren();
    dots.dataset.total = String(total);
    if (total <= 12) for (let i = 0; i < total; i += 1) dots.append(el("span", "meter-dot"));
    else dots.append(el("span", "meter-bar"));
  }
  if (total <= 12) {
    [...dots.children].forEach((dot, i) => dot.classList.toggle("is-used", i < total - left));
  } else {
    dots.firstChild.style.setProperty("--used", `${((total - left) / total) * 100}%`);
  }
  $("meter-text").textContent = fill(T.dots_left, { n: left, budget: total });
  const open = votingOpen();
  // The event does not say whether voting is yet to open or over; beyond the shared rule
  // (rank.js), having seen it open or having dots of my own spent mean "over".
  if (open) state.sawVotingOpen = true;
  const over =
    state.sawVotingOpen ||
    votingOver(state.event, serverNow(), state.participation ? state.participation.dots_cast : 0) ||
    left < total ||
    state.event.schedule_published;
  let reason = "";
  if (!open) reason = over ? T.voting_closed : T.voting_not_open;
  else if (left <= 0) reason = T.budget_spent;
  $("reason").textContent = reason;
  $("reason").hidden = !reason;
  const pending = queue.pendingCount();
  const sync = $("sync-note");
  sync.textContent = pending && navigator.onLine === false ? plural("pending_count", pending) : "";
  sync.hidden = !sync.textContent;
  renderPhase();
}

function renderPhase() {
  const phase = $("phase");
  const closes = state.event.voting_closes_at;
  const open = votingOpen() && Boolean(closes);
  phase.hidden = !open; // open without a deadline needs no words: the buttons say it
  if (!open) return;
  const left = Date.parse(closes) - serverNow();
  // Only the time shows next to the clock icon; the words are there for screen readers.
  const [before, after = ""] = T.closes_in.split("{time}");
  $("phase-text").replaceChildren(
    el("span", "visually-hidden", before),
    el("span", "", clock(left)),
    el("span", "visually-hidden", after),
  );
  phase.classList.toggle("is-urgent", left < 60000);
}

function setDots(id, dots) {
  const max = state.event.max_dots_per_proposal;
  const current = queue.dots(id);
  if (dots < 0 || dots > max || dots === current) return;
  if (!votingOpen()) return;
  if (dots > current && remaining() - (dots - current) < 0) return;
  queue.want(id, dots);
  if (navigator.vibrate) navigator.vibrate(8); // a tiny tick under the thumb, where supported
  scheduleRender();
}

let scheduleSignature = "";
function renderSchedule() {
  // My picks: the sessions I put dots on and the ones I starred (contract 5.2).
  const votedIds = [...new Set([...myVotedIds(), ...live.stars()])];
  const titles = new Map(
    votedIds.filter((id) => state.proposals.has(id)).map((id) => [id, state.proposals.get(id).title]),
  );
  const signature = JSON.stringify([state.schedule, votedIds, [...titles]]);
  if (signature !== scheduleSignature) {
    scheduleSignature = signature;
    const schedule = state.schedule;
    renderMySchedule($("my-schedule"), { schedule, votedIds, titles, timeZone: DATA.time_zone, T });
  }
  const published = Boolean(state.schedule && state.schedule.published);
  $("full-schedule").hidden = !published;
  live.render(new Set(votedIds));
  const badge = $("schedule-badge");
  badge.hidden = !published || currentTab === "schedule" || seenSchedule();
}

function seenSchedule() {
  try {
    return localStorage.getItem(`unconf:${SLUG}:schedule-seen`) === "1";
  } catch {
    return false;
  }
}


let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.classList.add("is-shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("is-shown"), 4000);
}

// --- tabs

const TABS = ["vote", "propose", "schedule"];
let currentTab = "vote";

function setTab(name, { focus = false } = {}) {
  if (!TABS.includes(name)) name = "vote";
  currentTab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (name === "propose") {
    startProposingOnce();
    startHostingOnce();
  }
  if (name === "schedule" && state.schedule && state.schedule.published) {
    try {
      localStorage.setItem(`unconf:${SLUG}:schedule-seen`, "1");
    } catch {
      /* fine */
    }
  }
  const hash = name === "vote" ? "" : `#${name}`;
  if (window.location.hash !== hash) history.replaceState(null, "", window.location.pathname + hash);
  scheduleRender();
}

for (const name of TABS) {
  const button = $(`tab-${name}`);
  button.addEventListener("click", () => {
    setTab(name);
    window.scrollTo({ top: 0 });
  });
  button.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1, Home: -TABS.length, End: TABS.length }[event.key];
    if (!step) return;
    event.preventDefault();
    const index = Math.min(TABS.length - 1, Math.max(0, TABS.indexOf(name) + step));
    setTab(TABS[index], { focus: true });
  });
}

$("search").addEventListener("input", (event) => {
  state.search = event.target.value;
  scheduleRender();
});

// --- connection

function onStatus(status) {
  // "live" only once the snapshot that follows the socket's opening is here.
  state.connection = status === "live" ? "connecting" : status;
  state.awaitingSnapshot = status === "live";
  if (status === "live") {
    state.needMe = true;
    queue.flush();
  } else {
    // The socket failed and nothing is on screen yet: do not leave an empty page for long.
    const urgent = status === "reconnecting" && !state.loaded;
    pollSoon((urgent ? HTTP_FALLBACK_MS / 3 : HTTP_FALLBACK_MS) * (1 + Math.random() / 2));
  }
  scheduleRender();
}

function pollSoon(wait) {
  if (pollTimer !== null && pollAt <= Date.now() + wait) return;
  clearTimeout(pollTimer);
  pollAt = Date.now() + wait;
  pollTimer = setTimeout(loadOverHttp, wait);
}

// Without the websocket (a proxy that blocks it, a server restarting), HTTP keeps the phone
// usable and roughly current until the feed is back.
let pollTimer = null;
let pollAt = 0;
async function loadOverHttp() {
  pollTimer = null;
  if (state.connection === "live") return;
  try {
    const [event, proposals, me] = await Promise.all([api.get(""), api.get("/proposals"), api.get("/me")]);
    if (state.connection === "live") return;
    state.event = event;
    state.proposals = byId(proposals.filter((p) => p.status === "published"));
    state.own = byId(proposals.filter((p) => p.mine && p.status !== "published"));
    if (state.firstIds === null) state.firstIds = new Set(state.proposals.keys());
    state.loaded = true;
    applyMe(me);
    queue.flush();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
  }
  if (state.connection !== "live") pollSoon(POLL_MS * (0.75 + Math.random() / 2));
}

window.addEventListener("online", () => {
  queue.flush();
  scheduleRender();
});
window.addEventListener("offline", () => scheduleRender());

setInterval(() => {
  const wasOpen = $("phase").dataset.open === "1";
  const open = votingOpen();
  $("phase").dataset.open = open ? "1" : "0";
  if (open !== wasOpen) scheduleRender();
  else renderPhase();
}, 1000);

// --- start

const app = {
  T,
  state,
  queue,
  api,
  plural,
  attendee: DATA.attendee,
  displayName: DATA.display_name,
  countsVisible,
  votingOpen,
  remaining,
  setDots,
  scheduleRender,
  toast,
  loadMe,
  serverNow,
  earlyMs: DATA.checkin_early_minutes * 60000,
  notesMax: DATA.notes_max_chars,
};
const list = createList(app);
// Proposing (phone-propose.js) loads with the Propose tab: a phone here to vote never needs
// it, and the first load stays small (tests/test_pages.py).
let proposing = { render() {} };
let proposingStarted = false;
function startProposingOnce() {
  if (proposingStarted) return;
  proposingStarted = true;
  import("./phone-propose.js").then(({ createProposing }) => {
    proposing = createProposing(app);
    scheduleRender();
  });
}
// Hosting loads with the Propose tab, or at once for a co-host link.
let hostingStarted = false;
function startHostingOnce() {
  if (hostingStarted) return;
  hostingStarted = true;
  import("./phone-hosting.js").then(({ startHosting }) => startHosting(app));
}
if (new URLSearchParams(window.location.search).has("cohost")) startHostingOnce();
// The sessions part (phone-live.js) loads only once a schedule is published: not on the
// first load of a phone that is here to vote.
let live = { stars: () => [], render: () => loadLive() };
let liveLoading = false;
function loadLive() {
  if (liveLoading || !(state.schedule && state.schedule.published)) return;
  liveLoading = true;
  import("./phone-live.js").then(({ createLive }) => {
    live = createLive(app);
    live.load();
    scheduleRender();
  });
}
$("next-banner").addEventListener("click", () => {
  setTab("schedule");
  window.scrollTo({ top: 0 });
});

restore();
setTab(window.location.hash.slice(1));
render();

const feed = connectFeed(SLUG, {
  onState(message) {
    if (message.type === "snapshot") applySnapshot(message);
    else applyTally(message);
  },
  onStatus,
});
window.addEventListener("pagehide", () => {
  persistNow();
  feed.close();
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) window.location.reload(); // back from the page cache with a closed feed
});
if (state.me) queue.flush();

// A small service worker keeps the page and its files for reloads without a connection.
if ("serviceWorker" in navigator && window.isSecureContext) {
  window.addEventListener("load", async () => {
    try {
      await navigator.serviceWorker.register(DATA.worker_url);
      const registration = await navigator.serviceWorker.ready;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        document.documentElement.dataset.offlineReady = "1";
      };
      registration.active.postMessage({ type: "cache", urls: [window.location.pathname, ...DATA.assets] }, [
        channel.port2,
      ]);
    } catch {
      /* no offline reloads, everything else works */
    }
  });
}
