// The stage board on the projector: live ranking (or the blind participation meter, or the
// propose wall, or the published schedule), the phase with a countdown from server time,
// and a connection indicator. Attendee text only ever goes in through textContent.
import { el, reconcile, setText } from "./dom.js";
import { connectFeed } from "./feed.js";

const TEXT = {
  status: {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    gone: "This event no longer exists",
    forbidden: "This board may not show the event",
  },
  proposeNow: "Propose now",
  voteNow: "Vote now",
  closesIn: "Voting closes in {clock}",
  votingClosed: "Voting closed",
  results: "Results",
  schedule: "Schedule",
  opensSoon: "Voting opens soon",
  dots: (n) => (n === 1 ? "dot" : "dots"),
  voters: (n) => `${n} ${n === 1 ? "person" : "people"}`,
  peopleVoted: (n) => (n === 1 ? "person voted" : "people voted"),
  votedOf: (v, a) => `${v} of ${a} ${a === 1 ? "person" : "people"} voted`,
  dotsOf: (c, t) => `${c} of ${t} dots spent`,
  joined: (n) => `${n} ${n === 1 ? "person" : "people"} joined`,
  votedShort: (n) => `${n} ${n === 1 ? "person" : "people"} voted`,
  meterOpen: "Counts stay hidden until the results are revealed.",
  meterClosed: "Voting is closed. The results are coming up…",
  more: (n) => `+ ${n} more ${n === 1 ? "proposal" : "proposals"}`,
  proposalsSoFar: (n) =>
    n === 0 ? "No proposals yet. Scan the code and be the first!" : `${n} ${n === 1 ? "proposal" : "proposals"} so far`,
  scheduleFoot: (host) => `Your own picks are highlighted on your phone · ${host}`,
  laterSlots: (n) => `+ ${n} later ${n === 1 ? "slot" : "slots"} · full schedule on your phone`,
  now: "now",
};

const ROWS = 8; // bars on the board (matches --rows in stage.css)
const WALL = 8; // newest proposals on the propose wall
const SLOTS = 4; // schedule rows: the current slot and what comes next
const OFFLINE_AFTER_MS = 2500;
const REVEAL_STEP_MS = 650;
const LEAVE_MS = 800;

const page = JSON.parse(document.getElementById("stage-data").textContent);
const $ = (id) => document.getElementById(id);
const els = {
  phase: $("stage-phase"),
  views: {
    ranking: $("view-ranking"),
    meter: $("view-meter"),
    propose: $("view-propose"),
    schedule: $("view-schedule"),
  },
  ranking: $("ranking"),
  rankingFoot: $("ranking-foot"),
  meterRing: $("meter-ring"),
  meterVoters: $("meter-voters"),
  meterVotersLabel: $("meter-voters-label"),
  meterPeople: $("meter-people"),
  meterDotsFill: $("meter-dots-fill"),
  meterDots: $("meter-dots"),
  meterNote: $("meter-note"),
  proposeCount: $("propose-count"),
  wall: $("propose-wall"),
  scheduleGrid: $("schedule-grid"),
  scheduleFoot: $("schedule-foot"),
  joinVoted: $("join-voted"),
  connection: $("connection"),
  connectionText: $("connection-text"),
};

const state = {
  event: null,
  proposals: new Map(), // published proposals by id
  participation: { attendees: 0, voters: 0, dots_cast: 0, dots_total: 0 },
  schedule: null,
  countsVisible: false,
  offset: 0, // server clock minus ours
  mode: null,
  revealPending: false,
};
const rows = new Map(); // proposal id -> row elements on the board
const wallItems = new Map();
let phaseKey = "";
let scheduleKey = "";

// --- helpers -------------------------------------------------------------------------------

const serverNow = () => Date.now() + state.offset;

function votingOpenNow(now) {
  const e = state.event;
  return e.voting_open && (!e.voting_closes_at || now < Date.parse(e.voting_closes_at));
}

function votingStarted(now) {
  const e = state.event;
  const deadlinePassed = Boolean(e.voting_closes_at) && now >= Date.parse(e.voting_closes_at);
  return votingOpenNow(now) || deadlinePassed || state.participation.dots_cast > 0 || e.results_revealed;
}

function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function byRank(a, b) {
  return (
    (b.dots || 0) - (a.dots || 0) ||
    (b.voters || 0) - (a.voters || 0) ||
    Date.parse(a.created_at) - Date.parse(b.created_at) ||
    a.id - b.id
  );
}

// Times in the event's own zone, never the projector laptop's.
let timeFormat = null;
function formatTime(date) {
  const timeZone = state.event?.time_zone;
  if (!timeFormat || timeFormat.resolvedOptions().timeZone !== timeZone) {
    const options = { hour: "2-digit", minute: "2-digit" };
    try {
      timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { ...options, timeZone });
    } catch {
      timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, options);
    }
  }
  return timeFormat.format(date);
}

// --- state from the feed ------------------------------------------------------------------

function onState(message) {
  state.offset = Date.parse(message.server_time) - Date.now();
  state.participation = message.participation;
  if (message.type === "snapshot") {
    const wasHidden = state.event !== null && !state.countsVisible;
    state.event = message.event;
    state.schedule = message.schedule;
    const published = message.proposals.filter((p) => p.status === "published");
    state.proposals = new Map(published.map((p) => [p.id, p]));
    state.countsVisible =
      (message.event.tally_visibility === "live" || message.event.results_revealed) &&
      published.every((p) => "dots" in p);
    if (wasHidden && state.countsVisible && message.event.results_revealed) state.revealPending = true;
  } else if (message.counts && state.countsVisible) {
    for (const [id, counts] of Object.entries(message.counts)) {
      const proposal = state.proposals.get(Number(id));
      if (proposal) Object.assign(proposal, counts);
    }
  }
  render();
}

let offlineTimer = null;
function onStatus(status) {
  els.connection.dataset.state = status;
  setText(els.connectionText, TEXT.status[status] || status);
  if (status === "live") {
    clearTimeout(offlineTimer);
    offlineTimer = null;
    document.body.classList.remove("is-offline");
  } else if (status === "gone" || status === "forbidden") {
    document.body.classList.add("is-offline");
  } else if (offlineTimer === null) {
    // Counted from the first failure: every retry reports "reconnecting" again.
    offlineTimer = setTimeout(() => document.body.classList.add("is-offline"), OFFLINE_AFTER_MS);
  }
}

// --- rendering -----------------------------------------------------------------------------

function pickMode(now) {
  const e = state.event;
  if (e.schedule_published && state.schedule && state.schedule.sessions.length) return "schedule";
  if (votingStarted(now)) return state.countsVisible ? "ranking" : "meter";
  return "propose";
}

function render() {
  if (!state.event) return;
  const now = serverNow();
  const mode = pickMode(now);
  if (mode !== state.mode) {
    for (const [name, view] of Object.entries(els.views)) view.hidden = name !== mode;
    if (state.mode === "ranking") clearRanking();
    state.mode = mode;
  }
  renderPhase(now);
  renderJoinVoted(now);
  if (mode === "ranking") renderRanking();
  else if (mode === "meter") renderMeter(now);
  else if (mode === "propose") renderPropose();
  else renderSchedule(now);
}

function renderPhase(now) {
  let text;
  let remaining = null;
  if (state.mode === "schedule") text = TEXT.schedule;
  else if (votingOpenNow(now) && state.event.voting_closes_at) {
    remaining = Date.parse(state.event.voting_closes_at) - now;
    text = TEXT.closesIn;
  } else if (votingOpenNow(now)) text = TEXT.voteNow;
  else if (votingStarted(now)) text = state.countsVisible ? TEXT.results : TEXT.votingClosed;
  else if (state.event.accepting_proposals) text = TEXT.proposeNow;
  else text = TEXT.opensSoon;
  const clockText = remaining === null ? "" : clock(remaining);
  const key = `${text}|${clockText}`;
  if (key === phaseKey) return;
  phaseKey = key;
  const [before, after = ""] = text.split("{clock}");
  const parts = [document.createTextNode(before)];
  if (remaining !== null) parts.push(el("span", "clock", clockText), document.createTextNode(after));
  els.phase.replaceChildren(...parts);
  els.phase.classList.toggle("is-urgent", remaining !== null && remaining < 60000);
}

function renderJoinVoted(now) {
  const { voters, attendees } = state.participation;
  setText(els.joinVoted, votingStarted(now) ? TEXT.votedShort(voters) : TEXT.joined(attendees));
}

function makeRow(proposal) {
  const li = el("li", "row");
  li.dataset.proposal = proposal.id;
  const rank = el("span", "row-rank");
  const bar = el("div", "row-bar");
  const fill = el("div", "row-fill");
  const title = el("bdi", "row-title");
  const host = el("span", "row-host");
  bar.append(fill, title, host);
  const count = el("div", "row-count");
  const dots = el("span", "row-dots");
  const unit = el("span", "row-unit");
  count.append(dots, unit);
  li.append(rank, bar, count);
  return { li, rank, title, host, dots, unit, lastDots: null };
}

function clearRanking() {
  for (const row of rows.values()) row.li.remove();
  rows.clear();
  els.ranking.classList.remove("is-revealing");
}

function renderRanking() {
  const ranked = [...state.proposals.values()].sort(byRank);
  const top = ranked.slice(0, ROWS);
  const max = Math.max(1, ...top.map((p) => p.dots || 0));
  const stacking = state.event.max_dots_per_proposal > 1;
  const revealing = state.revealPending;
  const shown = new Set();
  top.forEach((proposal, index) => {
    shown.add(proposal.id);
    let row = rows.get(proposal.id);
    const entering = !row;
    if (entering) {
      row = makeRow(proposal);
      rows.set(proposal.id, row);
      els.ranking.append(row.li);
      if (!revealing) {
        // Slide in from below the last place: start there, flush styles, then move.
        row.li.style.setProperty("--i", ROWS);
        row.li.classList.add("is-entering");
        row.li.getBoundingClientRect();
        row.li.classList.remove("is-entering");
      }
    }
    const dots = proposal.dots || 0;
    row.li.style.setProperty("--i", index);
    row.li.style.setProperty("--frac", dots / max);
    row.li.dataset.rank = index + 1;
    setText(row.rank, String(index + 1));
    setText(row.title, proposal.title);
    setText(row.host, proposal.host_name || "");
    setText(row.dots, String(dots));
    setText(row.unit, stacking ? `${TEXT.dots(dots)} · ${TEXT.voters(proposal.voters || 0)}` : TEXT.dots(dots));
    if (row.lastDots !== null && dots > row.lastDots) {
      row.dots.classList.remove("is-bumped");
      row.dots.getBoundingClientRect();
      row.dots.classList.add("is-bumped");
    }
    row.lastDots = dots;
  });
  for (const [id, row] of rows) {
    if (shown.has(id)) continue;
    rows.delete(id);
    row.li.classList.add("is-leaving");
    row.li.style.setProperty("--i", ROWS);
    setTimeout(() => row.li.remove(), LEAVE_MS);
  }
  let foot = "";
  if (ranked.length > ROWS) foot = TEXT.more(ranked.length - ROWS);
  else if (ranked.length === 0) foot = TEXT.proposalsSoFar(0);
  setText(els.rankingFoot, foot);
  if (revealing) reveal(top.length);
}

// The reveal after blind voting: last place first, the winner last, each bar growing from zero.
function reveal(count) {
  state.revealPending = false;
  const list = els.ranking;
  list.classList.add("is-revealing");
  for (const row of rows.values()) row.li.classList.remove("is-shown");
  for (let place = count; place >= 1; place -= 1) {
    const delay = (count - place) * REVEAL_STEP_MS + (place === 1 ? REVEAL_STEP_MS : 0);
    setTimeout(() => {
      const li = list.querySelector(`.row[data-rank="${place}"]`);
      if (li) li.classList.add("is-shown");
    }, delay + 300);
  }
  setTimeout(
    () => {
      list.classList.remove("is-revealing");
      for (const row of rows.values()) row.li.classList.remove("is-shown");
    },
    (count + 1) * REVEAL_STEP_MS + 2500,
  );
}

function renderMeter(now) {
  const { attendees, voters, dots_cast: cast, dots_total: total } = state.participation;
  els.meterRing.style.setProperty("--p", attendees ? Math.min(100, (voters / attendees) * 100) : 0);
  setText(els.meterVoters, String(voters));
  setText(els.meterVotersLabel, TEXT.peopleVoted(voters));
  setText(els.meterPeople, TEXT.votedOf(voters, attendees));
  els.meterDotsFill.style.setProperty("width", `${total ? Math.min(100, (cast / total) * 100) : 0}%`);
  setText(els.meterDots, TEXT.dotsOf(cast, total));
  setText(els.meterNote, votingOpenNow(now) ? TEXT.meterOpen : TEXT.meterClosed);
}

function renderPropose() {
  const newest = [...state.proposals.values()]
    .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id)
    .slice(0, WALL);
  setText(els.proposeCount, TEXT.proposalsSoFar(state.proposals.size));
  // Only new items are inserted; existing ones never move (moving would replay the animation).
  reconcile(els.wall, newest, wallItems, {
    key: (proposal) => proposal.id,
    make: () => {
      const item = { li: el("li", "wall-item"), title: el("bdi", "wall-title"), host: el("span", "wall-host") };
      item.li.append(item.title, item.host);
      return item;
    },
    node: (item) => item.li,
    update: (item, proposal) => {
      setText(item.title, proposal.title);
      setText(item.host, proposal.host_name || "");
    },
  });
}

function renderSchedule(now) {
  const { rooms, slots, sessions } = state.schedule;
  const ordered = [...slots].sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
  let first = ordered.findIndex((slot) => Date.parse(slot.ends_at) > now);
  if (first < 0) first = Math.max(0, ordered.length - SLOTS);
  const visible = ordered.slice(first, first + SLOTS);
  const current = visible.find((s) => Date.parse(s.starts_at) <= now && now < Date.parse(s.ends_at));
  const key = JSON.stringify([state.schedule, first, current && current.id]);
  if (key === scheduleKey) return;
  scheduleKey = key;

  // A long session fills each of its slots.
  const bySpot = new Map(sessions.flatMap((s) => (s.slots || [s.slot]).map((slot) => [`${s.room}:${slot}`, s])));
  const grid = els.scheduleGrid;
  grid.style.setProperty("--rooms", Math.max(1, rooms.length));
  grid.style.setProperty("--slots", Math.max(1, visible.length));
  grid.style.setProperty("--cell-font", `calc(var(--u) * ${Math.max(1.7, Math.min(2.8, 11 / rooms.length))})`);
  const cells = [el("div", "schedule-corner")];
  for (const room of rooms) cells.push(el("div", "schedule-room", room.name));
  for (const slot of visible) {
    const isNow = current && current.id === slot.id;
    const time = el("div", `schedule-time${isNow ? " is-now" : ""}`, formatTime(new Date(slot.starts_at)));
    const label = slot.label || (isNow ? TEXT.now : "");
    if (label) time.append(el("small", "", label));
    cells.push(time);
    for (const room of rooms) {
      const session = bySpot.get(`${room.id}:${slot.id}`);
      const cell = el("div", `schedule-cell${session ? "" : " is-empty"}${session && isNow ? " is-now" : ""}`);
      if (session) cell.append(el("bdi", "cell-title", session.title));
      cells.push(cell);
    }
  }
  grid.replaceChildren(...cells);
  const later = ordered.length - (first + visible.length);
  setText(els.scheduleFoot, later > 0 ? TEXT.laterSlots(later) : TEXT.scheduleFoot(page.host));
}

// --- the room: no mouse, no sleeping screen ------------------------------------------------

let cursorTimer = null;
document.addEventListener("mousemove", () => {
  document.body.classList.remove("cursor-hidden");
  clearTimeout(cursorTimer);
  cursorTimer = setTimeout(() => document.body.classList.add("cursor-hidden"), 2500);
});

// F toggles full screen (a keyboard is all the projector laptop needs).
document.addEventListener("keydown", (event) => {
  if (event.key !== "f" && event.key !== "F") return;
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => {});
});

async function keepAwake() {
  try {
    if (navigator.wakeLock && document.visibilityState === "visible") await navigator.wakeLock.request("screen");
  } catch {
    // Not allowed here (no HTTPS, or the browser says no): the projector settings decide.
  }
}
document.addEventListener("visibilitychange", keepAwake);
keepAwake();

setInterval(() => {
  if (!state.event) return;
  const now = serverNow();
  if (pickMode(now) !== state.mode || state.mode === "schedule") render();
  else {
    renderPhase(now);
    if (state.mode === "meter") renderMeter(now);
  }
}, 250);

connectFeed(page.slug, { onState, onStatus, publicView: true });
