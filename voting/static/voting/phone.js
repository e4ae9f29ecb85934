// The attendee's phone: vote with dots, propose sessions, follow the live ranking and see
// "my schedule". State arrives over the live feed (feed.js); votes and proposals go over HTTP.
// Attendee text is only ever written with textContent; no markup is built from strings.

import { connectFeed } from "./feed.js";
import { ApiError, NetworkError, createApi } from "./phone-api.js";
import { renderMySchedule } from "./phone-schedule.js";
import { VoteQueue } from "./phone-votes.js";

const DATA = JSON.parse(document.getElementById("page-data").textContent);
// Every user-facing sentence, translated by Django (voting/pages.py PHONE_STRINGS).
const T = DATA.strings;
const SLUG = DATA.slug;
const STATE_KEY = `unconf:${SLUG}:state`;
const HOST_KEY = "unconf:host-name";
const LONG_DESCRIPTION = 180;
const SIMILAR_DELAY_MS = 300;
const HTTP_FALLBACK_MS = 6000;
const POLL_MS = 20000;
const TITLE_MIN = 3;
const TITLE_MAX = 120;
const SEARCH_FROM = 8; // proposals: below that a search box is only in the way

const api = createApi(SLUG, DATA.csrf_cookie);
const $ = (id) => document.getElementById(id);
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

function plural(base, n) {
  return fill(T[n === 1 ? `${base}_one` : `${base}_other`], { n });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function chars(text) {
  return [...text].length; // code points, as the server counts them
}

// --- state -----------------------------------------------------------------------------------

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

const shuffleKeys = new Map();
const cards = new Map();

const queue = new VoteQueue({
  slug: SLUG,
  attendee: DATA.attendee,
  api,
  confirmed: () => (state.me ? state.me.votes : {}),
  onMe: (me) => applyMe(me),
  onChange: () => scheduleRender(),
  onSignedOut: () => signOut(),
});

function serverNow() {
  return Date.now() + state.offset;
}

function syncClock(serverTime) {
  const parsed = Date.parse(serverTime);
  if (!Number.isNaN(parsed)) state.offset = parsed - Date.now();
}

function countsVisible() {
  return state.event.tally_visibility === "live" || Boolean(state.event.results_revealed);
}

function votingOpen() {
  if (!state.event.voting_open) return false;
  const closes = state.event.voting_closes_at;
  return !closes || serverNow() < Date.parse(closes);
}

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
    // Another attendee's state (a different badge on this phone): start over cleanly.
    window.location.reload();
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
  state.proposals = new Map(message.proposals.filter((p) => p.status === "published").map((p) => [String(p.id), p]));
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
    state.proposals = new Map((saved.proposals || []).map((p) => [String(p.id), p]));
    state.own = new Map((saved.own || []).map((p) => [String(p.id), p]));
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
let ownSignature = "";
async function refreshOwnIfNeeded() {
  if (!state.me) return;
  const missing = state.me.proposals.map(String).filter((id) => !state.proposals.has(id));
  const signature = missing.sort().join(",");
  if (signature === ownSignature) return;
  ownSignature = signature;
  if (!missing.length) {
    state.own.clear();
    scheduleRender();
    return;
  }
  try {
    const list = await api.get("/proposals?order=random");
    state.own = new Map(list.filter((p) => p.mine && p.status !== "published").map((p) => [String(p.id), p]));
    scheduleRender();
    persist();
  } catch {
    ownSignature = ""; // try again with the next state
  }
}

function signOut() {
  state.signedOut = true;
  scheduleRender();
}

// --- ordering --------------------------------------------------------------------------------

// While counts are hidden the list is the same stable shuffle the API gives (`?order=random`):
// sha256("<attendee id>:<proposal id>") ascending. Without WebCrypto (plain HTTP on a LAN
// address) a simpler stable hash stands in.
async function ensureShuffleKeys(ids) {
  const missing = ids.filter((id) => !shuffleKeys.has(id));
  if (!missing.length) return false;
  const seed = DATA.attendee || "public";
  const subtle = window.crypto && window.crypto.subtle;
  for (const id of missing) {
    const text = `${seed}:${id}`;
    if (subtle) {
      const digest = new Uint8Array(await subtle.digest("SHA-256", new TextEncoder().encode(text)));
      shuffleKeys.set(id, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
    } else {
      let hash = 0x811c9dc5;
      for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
      shuffleKeys.set(id, (hash >>> 0).toString(16).padStart(8, "0"));
    }
  }
  return true;
}

function ordered() {
  const list = [...state.proposals.values()];
  if (countsVisible()) {
    return list.sort(
      (a, b) =>
        (b.dots || 0) - (a.dots || 0) ||
        (b.voters || 0) - (a.voters || 0) ||
        Date.parse(a.created_at) - Date.parse(b.created_at) ||
        a.id - b.id,
    );
  }
  const key = (p) => shuffleKeys.get(String(p.id)) || "~";
  return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id - b.id));
}

function matches(proposal, needle) {
  if (!needle) return true;
  return [proposal.title, proposal.description, proposal.host_name].some((text) =>
    (text || "").toLocaleLowerCase().includes(needle),
  );
}

// --- rendering -------------------------------------------------------------------------------

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
  renderList();
  renderOwn();
  renderSchedule();
  renderProposeState();
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
  // The event does not say whether voting is yet to open or over; dots cast, or having seen it
  // open, mean "over".
  if (open) state.sawVotingOpen = true;
  const over =
    state.sawVotingOpen ||
    Boolean(state.participation && state.participation.dots_cast) ||
    left < total ||
    state.event.results_revealed ||
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

function formatLeft(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
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
    el("span", "", formatLeft(left)),
    el("span", "visually-hidden", after),
  );
  phase.classList.toggle("is-urgent", left < 60000);
}

function renderList() {
  const list = $("list");
  const empty = $("list-empty");
  const visible = countsVisible();
  const needle = state.search.trim().toLocaleLowerCase();
  const ids = [...state.proposals.keys()];
  if (!visible) {
    ensureShuffleKeys(ids).then((added) => added && scheduleRender());
  }
  $("search-box").hidden = state.proposals.size < SEARCH_FROM && !needle;
  const shown = ordered().filter((p) => matches(p, needle));
  const note = $("list-note");
  if (state.participation && state.participation.attendees) {
    const text = fill(T.participation, state.participation);
    note.textContent = visible ? text : `${T.results_blind} ${text}`;
  } else {
    note.textContent = visible ? "" : T.results_blind;
  }
  note.hidden = !note.textContent;

  if (!state.loaded) empty.textContent = T.loading;
  else if (!state.proposals.size) empty.textContent = T.empty;
  else if (!shown.length) empty.textContent = T.no_match;
  else empty.textContent = "";
  empty.hidden = !empty.textContent;

  const keep = new Set(shown.map((p) => String(p.id)));
  for (const [id, card] of cards) {
    if (!keep.has(id)) {
      card.root.remove();
      cards.delete(id);
    }
  }
  shown.forEach((proposal, index) => {
    const id = String(proposal.id);
    let card = cards.get(id);
    if (!card) {
      card = createCard(id);
      cards.set(id, card);
    }
    updateCard(card, proposal, visible ? index + 1 : 0);
  });
  reorder(list, shown.map((p) => cards.get(String(p.id)).root));
}

// Move cards into the new order; slide them from where they were (FLIP) so a live re-rank is
// followable, and give focus back if a move took it away.
function reorder(list, wanted) {
  const current = [...list.children];
  if (current.length === wanted.length && current.every((node, i) => node === wanted[i])) return;
  const focused = document.activeElement;
  const before = new Map();
  if (!reducedMotion) for (const node of current) before.set(node, node.getBoundingClientRect().top);
  list.replaceChildren(...wanted);
  if (focused && list.contains(focused) && document.activeElement !== focused) focused.focus({ preventScroll: true });
  if (reducedMotion) return;
  for (const node of wanted) {
    const top = before.get(node);
    if (top === undefined) continue;
    const delta = top - node.getBoundingClientRect().top;
    if (delta && node.animate) {
      node.animate([{ transform: `translateY(${delta}px)` }, { transform: "none" }], {
        duration: 300,
        easing: "ease-out",
      });
    }
  }
}

function createCard(id) {
  const root = el("li", "card proposal");
  root.dataset.id = id;
  const head = el("div", "proposal-head");
  const rank = el("span", "rank");
  rank.setAttribute("aria-hidden", "true");
  const heading = el("h3", "proposal-title");
  const rankLabel = el("span", "visually-hidden");
  const title = el("span", "");
  title.dir = "auto";
  heading.append(rankLabel, title);
  head.append(rank, heading);
  const host = el("p", "proposal-host");
  const hostName = el("bdi", "");
  host.append(hostName);
  const description = el("p", "proposal-desc");
  description.dir = "auto";
  const more = el("button", "link-button more", T.more);
  more.type = "button";
  more.setAttribute("aria-expanded", "false");
  more.addEventListener("click", () => {
    const open = root.classList.toggle("is-open");
    more.textContent = open ? T.less : T.more;
    more.setAttribute("aria-expanded", String(open));
  });
  const foot = el("div", "proposal-foot");
  const meta = el("p", "proposal-meta");
  const vote = el("div", "vote");
  foot.append(meta, vote);
  const sync = el("p", "proposal-sync");
  root.append(head, host, description, more, foot, sync);
  return { id, root, rank, rankLabel, title, host, hostName, description, more, meta, vote, sync, kind: "" };
}

function updateCard(card, proposal, rank) {
  card.root.classList.toggle("is-ranked", rank > 0);
  card.rank.textContent = rank ? String(rank) : "";
  card.rank.hidden = !rank;
  card.rankLabel.textContent = rank ? `${fill(T.rank, { n: rank })}: ` : "";
  if (card.title.textContent !== proposal.title) card.title.textContent = proposal.title;
  // "by {name}" with the name in its own <bdi>, so a right-to-left name cannot reorder the
  // translated words around it.
  const hostText = proposal.host_name ? fill(T.by_host, { name: "\u0000" }) : "";
  if (hostText) {
    const [beforeName, afterName] = hostText.split("\u0000");
    card.hostName.textContent = proposal.host_name;
    card.host.replaceChildren(beforeName, card.hostName, afterName);
  }
  card.host.hidden = !proposal.host_name;
  const description = proposal.description || "";
  if (card.description.textContent !== description) card.description.textContent = description;
  card.description.hidden = !description;
  card.more.hidden = chars(description) <= LONG_DESCRIPTION;
  card.root.classList.toggle("is-long", chars(description) > LONG_DESCRIPTION);

  // Tags and counts. Counts only when the server sent them: never a number in blind mode.
  const tags = [];
  const mine = state.me && state.me.proposals.map(String).includes(card.id);
  if (mine) tags.push(el("span", "tag tag-mine", T.yours));
  if (state.firstIds && !state.firstIds.has(card.id)) tags.push(el("span", "tag tag-new", T.new));
  if (countsVisible() && typeof proposal.dots === "number") {
    const counts = el("span", "counts");
    counts.append(el("strong", "", plural("dots", proposal.dots)), ` · ${plural("voters", proposal.voters)}`);
    tags.push(counts);
  }
  card.meta.replaceChildren(...tags);

  updateVote(card, proposal);

  const status = queue.stateOf(card.id);
  const syncText = !status
    ? ""
    : status.state === "refused"
      ? fill(T.refused, { reason: status.reason || T.error })
      : T[status.state] || "";
  card.sync.textContent = syncText;
  card.sync.dataset.state = status ? status.state : "";
  card.sync.hidden = !syncText;
  card.root.dataset.sync = status ? status.state : "";
}

function updateVote(card, proposal) {
  const max = state.event.max_dots_per_proposal;
  const kind = max > 1 ? "stepper" : "toggle";
  const dots = queue.dots(card.id);
  const open = votingOpen() && !state.signedOut;
  const left = remaining();
  if (card.kind !== kind) {
    card.kind = kind;
    card.vote.replaceChildren();
    if (kind === "toggle") {
      const button = el("button", "dot-toggle");
      button.type = "button";
      const dot = el("span", "dot");
      dot.setAttribute("aria-hidden", "true");
      const label = el("span", "dot-label");
      button.append(dot, label);
      button.addEventListener("click", () => setDots(card.id, queue.dots(card.id) ? 0 : 1));
      card.vote.append(button);
      Object.assign(card, { toggle: button, toggleLabel: label });
    } else {
      const group = el("div", "stepper");
      group.setAttribute("role", "group");
      const minus = el("button", "step step-minus", "−");
      minus.type = "button";
      const count = el("output", "step-count");
      const plus = el("button", "step step-plus", "+");
      plus.type = "button";
      minus.addEventListener("click", () => setDots(card.id, Math.max(0, queue.dots(card.id) - 1)));
      plus.addEventListener("click", () => setDots(card.id, queue.dots(card.id) + 1));
      group.append(minus, count, plus);
      card.vote.append(group);
      Object.assign(card, { group, minus, count, plus });
    }
  }
  card.root.classList.toggle("is-voted", dots > 0);
  if (kind === "toggle") {
    card.toggle.setAttribute("aria-pressed", String(dots > 0));
    card.toggleLabel.textContent = dots > 0 ? T.voted : T.vote;
    card.toggle.setAttribute("aria-label", fill(dots > 0 ? T.voted_for : T.vote_for, { title: proposal.title }));
    card.toggle.disabled = !open || (dots === 0 && left <= 0);
  } else {
    card.group.setAttribute("aria-label", fill(T.your_dots, { title: proposal.title }));
    card.minus.setAttribute("aria-label", fill(T.remove_dot, { title: proposal.title }));
    card.plus.setAttribute("aria-label", fill(T.add_dot, { title: proposal.title }));
    card.count.textContent = String(dots);
    card.minus.disabled = !open || dots <= 0;
    card.plus.disabled = !open || left <= 0 || dots >= max;
    card.plus.title = dots >= max ? T.cap_reached : "";
  }
}

function setDots(id, dots) {
  const max = state.event.max_dots_per_proposal;
  const current = queue.dots(id);
  if (dots < 0 || dots > max || dots === current) return;
  if (!votingOpen()) return;
  if (dots > current && remaining() - (dots - current) < 0) return;
  queue.want(id, dots);
  scheduleRender();
}

// --- my proposals ----------------------------------------------------------------------------

function myProposals() {
  if (!state.me) return [];
  return state.me.proposals
    .map(String)
    .map((id) => state.proposals.get(id) || state.own.get(id))
    .filter(Boolean);
}

function renderOwn() {
  const list = $("own");
  const mine = myProposals();
  const accepting = state.event.accepting_proposals && !state.signedOut;
  list.replaceChildren();
  $("own-empty").hidden = mine.length > 0;
  for (const proposal of mine) {
    const item = el("li", "card own");
    const title = el("p", "own-title", proposal.title);
    title.dir = "auto";
    const status = el("span", `tag tag-${proposal.status}`, T[`status_${proposal.status}`] || proposal.status);
    const actions = el("div", "own-actions");
    const edit = el("button", "btn btn-small btn-ghost", T.edit);
    edit.type = "button";
    edit.append(el("span", "visually-hidden", ` “${proposal.title}”`));
    edit.disabled = !accepting || proposal.status === "merged";
    edit.addEventListener("click", () => startEdit(proposal));
    const withdraw = el("button", "btn btn-small btn-ghost btn-danger-text", T.withdraw);
    withdraw.type = "button";
    withdraw.append(el("span", "visually-hidden", ` “${proposal.title}”`));
    withdraw.disabled = !accepting || proposal.status === "merged";
    withdraw.addEventListener("click", () => confirmWithdraw(proposal));
    actions.append(edit, withdraw);
    item.append(title, status, actions);
    list.append(item);
  }
}

function renderProposeState() {
  const accepting = Boolean(state.event.accepting_proposals) && !state.signedOut;
  $("form-closed").hidden = accepting;
  for (const field of form.elements) field.disabled = !accepting || (field.id === "p-submit" && submitting);
  if (!accepting && state.editing) stopEdit();
}

function renderSchedule() {
  const titles = new Map([...state.proposals].map(([id, p]) => [id, p.title]));
  renderMySchedule($("my-schedule"), {
    schedule: state.schedule,
    votedIds: myVotedIds(),
    titles,
    timeZone: DATA.time_zone,
    T,
    fill,
  });
  const published = Boolean(state.schedule && state.schedule.published);
  $("full-schedule").hidden = !published;
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

// --- proposing -------------------------------------------------------------------------------

const form = $("propose-form");
const titleInput = $("p-title");
const descriptionInput = $("p-desc");
const hostInput = $("p-host");

function fieldError(name, message) {
  const input = { title: titleInput, description: descriptionInput, host_name: hostInput }[name];
  const box = $(`${input.id}-error`);
  box.textContent = message || "";
  box.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function clearErrors() {
  for (const name of ["title", "description", "host_name"]) fieldError(name, "");
  $("form-error").textContent = "";
  $("form-error").hidden = true;
}

function updateCounter() {
  const n = chars(titleInput.value.trim());
  const counter = $("p-title-count");
  counter.textContent = fill(T.chars, { n, max: TITLE_MAX });
  counter.classList.toggle("is-over", n > TITLE_MAX);
}

let similarTimer = null;
let similarSeq = 0;
titleInput.addEventListener("input", () => {
  updateCounter();
  if (titleInput.getAttribute("aria-invalid")) fieldError("title", "");
  clearTimeout(similarTimer);
  similarTimer = setTimeout(lookupSimilar, SIMILAR_DELAY_MS);
});

async function lookupSimilar() {
  const title = titleInput.value.trim();
  const seq = ++similarSeq;
  if (chars(title) < TITLE_MIN) {
    renderSimilar([]);
    return;
  }
  try {
    const found = await api.get(`/proposals/similar?title=${encodeURIComponent(title)}`);
    if (seq !== similarSeq) return; // a newer keystroke won
    renderSimilar(found.filter((p) => String(p.id) !== String(state.editing)));
  } catch {
    if (seq === similarSeq) renderSimilar([]);
  }
}

let similarShown = [];
function renderSimilar(found) {
  similarShown = found.slice(0, 3);
  const box = $("similar");
  box.replaceChildren();
  if (!similarShown.length) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.append(el("p", "similar-intro", T.similar_intro));
  const list = el("ul", "similar-list");
  for (const proposal of similarShown) {
    const id = String(proposal.id);
    const item = el("li", "similar-item");
    const title = el("p", "similar-title", proposal.title);
    title.dir = "auto";
    const button = el("button", "btn btn-small btn-secondary");
    button.type = "button";
    const dots = queue.dots(id);
    const voted = dots > 0;
    button.append(voted ? T.voted : T.vote);
    button.append(el("span", "visually-hidden", ` “${proposal.title}”`));
    button.setAttribute("aria-pressed", String(voted));
    const max = state.event.max_dots_per_proposal;
    button.disabled = !votingOpen() || (!voted && remaining() <= 0) || (voted && max > 1 && dots >= max);
    button.addEventListener("click", () => {
      const now = queue.dots(id);
      setDots(id, max > 1 ? Math.min(max, now + 1) : now ? 0 : 1);
      renderSimilar(similarShown);
    });
    item.append(title, button);
    list.append(item);
  }
  box.append(list);
}

let submitting = false;
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  const title = titleInput.value.trim();
  const tooShort = chars(title) < TITLE_MIN;
  if (tooShort || chars(title) > TITLE_MAX) {
    fieldError("title", tooShort ? T.title_short : T.title_long);
    titleInput.focus();
    return;
  }
  const body = { title, description: descriptionInput.value.trim(), host_name: hostInput.value.trim() };
  const submit = $("p-submit");
  submitting = true;
  submit.disabled = true;
  try {
    if (state.editing) {
      const updated = await api.patch(`/proposals/${state.editing}`, body);
      storeProposal(updated);
      toast(T.saved_edit);
      stopEdit();
    } else {
      const created = await api.post("/proposals", body);
      storeProposal(created);
      if (state.me && !state.me.proposals.includes(created.id)) state.me.proposals.push(created.id);
      toast(created.status === "published" ? T.proposed : T.proposed_pending);
      resetForm();
    }
    try {
      localStorage.setItem(HOST_KEY, body.host_name);
    } catch {
      /* fine */
    }
  } catch (error) {
    showFormError(error);
  } finally {
    submitting = false;
    renderProposeState();
    scheduleRender();
  }
});

function storeProposal(proposal) {
  const id = String(proposal.id);
  if (proposal.status === "published") {
    const known = state.proposals.get(id);
    state.proposals.set(id, { ...known, ...proposal });
    state.own.delete(id);
  } else if (proposal.status === "withdrawn") {
    state.proposals.delete(id);
    state.own.delete(id);
  } else {
    state.proposals.delete(id);
    state.own.set(id, proposal);
  }
  if (state.firstIds && !state.firstIds.has(id) && proposal.mine) state.firstIds.add(id);
}

function showFormError(error) {
  const box = $("form-error");
  if (error instanceof ApiError) {
    let placed = false;
    for (const name of ["title", "description", "host_name"]) {
      if (error.fields[name]) {
        fieldError(name, [].concat(error.fields[name]).join(" "));
        placed = true;
      }
    }
    if (!placed) {
      box.textContent = error.detail || T.error;
      box.hidden = false;
    }
    if (error.code === "proposals_closed") state.event.accepting_proposals = false;
  } else {
    box.textContent = error instanceof NetworkError ? T.network_error : T.error;
    box.hidden = false;
  }
}

function resetForm() {
  form.reset();
  hostInput.value = defaultHost();
  updateCounter();
  renderSimilar([]);
}

function defaultHost() {
  try {
    const saved = localStorage.getItem(HOST_KEY);
    if (saved !== null) return saved;
  } catch {
    /* fall through */
  }
  return DATA.display_name || "";
}

function startEdit(proposal) {
  state.editing = String(proposal.id);
  clearErrors();
  titleInput.value = proposal.title;
  descriptionInput.value = proposal.description || "";
  hostInput.value = proposal.host_name || "";
  $("form-heading").textContent = T.edit_title;
  $("p-submit").textContent = T.save_changes;
  $("p-cancel").hidden = false;
  updateCounter();
  renderSimilar([]);
  form.scrollIntoView({ behavior: reducedMotion ? "auto" : "smooth", block: "start" });
  titleInput.focus({ preventScroll: true });
}

function stopEdit() {
  state.editing = null;
  $("form-heading").textContent = T.propose_title;
  $("p-submit").textContent = T.submit;
  $("p-cancel").hidden = true;
  clearErrors();
  resetForm();
}

$("p-cancel").addEventListener("click", stopEdit);

function confirmWithdraw(proposal) {
  const dialog = $("confirm");
  $("confirm-text").textContent = fill(T.withdraw_confirm, { title: proposal.title });
  dialog.returnValue = "";
  dialog.showModal();
  dialog.addEventListener(
    "close",
    async () => {
      if (dialog.returnValue !== "ok") return;
      try {
        const withdrawn = await api.del(`/proposals/${proposal.id}`);
        storeProposal(withdrawn);
        if (state.me) state.me.proposals = state.me.proposals.filter((id) => String(id) !== String(proposal.id));
        if (state.editing === String(proposal.id)) stopEdit();
        toast(T.withdrawn);
        loadMe();
      } catch (error) {
        toast(error instanceof ApiError ? error.detail || T.error : T.network_error);
      }
      scheduleRender();
    },
    { once: true },
  );
}

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.classList.add("is-shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("is-shown"), 4000);
}

// --- tabs ------------------------------------------------------------------------------------

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

// --- connection ------------------------------------------------------------------------------

function onStatus(status) {
  // "live" only once the snapshot that follows the socket's opening is here.
  state.connection = status === "live" ? "connecting" : status;
  state.awaitingSnapshot = status === "live";
  if (status === "live") {
    state.needMe = true;
    queue.flush();
  } else if (pollTimer === null) {
    pollTimer = setTimeout(loadOverHttp, HTTP_FALLBACK_MS);
  }
  scheduleRender();
}

// Without the websocket (a proxy that blocks it, a server restarting), HTTP keeps the phone
// usable and roughly current until the feed is back.
let pollTimer = null;
async function loadOverHttp() {
  pollTimer = null;
  if (state.connection === "live") return;
  try {
    const [event, proposals, me] = await Promise.all([api.get(""), api.get("/proposals"), api.get("/me")]);
    if (state.connection === "live") return;
    state.event = event;
    state.proposals = new Map(proposals.filter((p) => p.status === "published").map((p) => [String(p.id), p]));
    state.own = new Map(proposals.filter((p) => p.mine && p.status !== "published").map((p) => [String(p.id), p]));
    if (state.firstIds === null) state.firstIds = new Set(state.proposals.keys());
    state.loaded = true;
    applyMe(me);
    queue.flush();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
  }
  if (state.connection !== "live" && pollTimer === null) pollTimer = setTimeout(loadOverHttp, POLL_MS);
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

// --- start -----------------------------------------------------------------------------------

restore();
hostInput.value = defaultHost();
updateCounter();
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
