// The stage board on the projector: live ranking (or the blind participation meter, or the
// propose wall), results with the cut line, the published schedule, now/next while sessions
// run, the join QR alone or an announcement — by the phase, or as the organizers choose
// (`stage_view`). The phase has a countdown from server time; a connection indicator.
// Attendee text only ever goes in through textContent.
import { $, el, reconcile, setText, timeText, useEventTimeZone } from "./dom.js";
import { connectFeed } from "./feed.js";
import { fill, plurals } from "./i18n.js";
import { byRank, clock, countsVisible, isTied, rankNumbers, votingOpen, votingOver } from "./rank.js";

// Every sentence comes translated from Django (voting/console.py STAGE_STRINGS), in the page's
// language; plural forms are picked with the language's own rules (i18n.js).
const page = JSON.parse(document.getElementById("stage-data").textContent);
const S = page.strings;
const plural = plurals(S);
const TEXT = {
  status: {
    connecting: S.connecting,
    live: S.live,
    reconnecting: S.reconnecting,
    gone: S.gone,
    forbidden: S.forbidden,
  },
  proposeNow: S.propose_now,
  voteNow: S.vote_now,
  closesIn: S.closes_in,
  votingClosed: S.voting_closed,
  results: S.results,
  schedule: S.schedule,
  nowNext: S.now_next,
  announcement: S.announcement,
  join: S.join,
  endsIn: (clockText) => fill(S.ends_in, { clock: clockText }),
  startsIn: (time, clockText) => fill(S.starts_in, { time, clock: clockText }),
  startsAt: (time) => fill(S.starts_at, { time }),
  until: (time) => fill(S.until, { time }),
  nothingNow: S.nothing_now,
  checkedIn: (n) => fill(S.checked_in, { n }),
  scan: {
    vote: S.scan_vote,
    results: S.scan_results,
    schedule: S.scan_schedule,
  },
  joinedShort: (n) => plural("joined", n),
  qrLead: S.qr_lead,
  cutLine: (n) => fill(S.cut_line, { n }),
  cutTie: (n) => fill(S.cut_tie, { n }),
  tieNote: S.tie_note,
  opensSoon: S.opens_soon,
  dots: (n) => plural("dots_word", n),
  voters: (n) => plural("voters", n),
  peopleVoted: (n) => plural("people_voted", n),
  votedOf: (v, a) => plural("voted_of", a, { v, a }),
  dotsOf: (c, t) => fill(S.dots_of, { c, t }),
  joined: (n) => plural("joined", n),
  votedShort: (n) => plural("voted_short", n),
  meterOpen: S.meter_open,
  meterClosed: S.meter_closed,
  more: (n) => plural("more", n),
  proposalsSoFar: (n) => (n === 0 ? S.no_proposals : plural("proposals_so_far", n)),
  scheduleFoot: (host) => fill(S.schedule_foot, { host }),
  laterSlots: (n) => plural("later_slots", n),
  now: S.now,
};

const ROWS = 7; // bars on the board (matches --rows in stage.css)
const WALL = 8; // newest proposals on the propose wall
const SLOTS = 4; // schedule rows: the current slot and what comes next
const NOW_AHEAD_MS = 15 * 60 * 1000; // between sessions, now/next shows the next one this early
const OFFLINE_AFTER_MS = 2500;
const REVEAL_STEP_MS = 650;
const LEAVE_MS = 800;

const els = {
  phase: $("stage-phase"),
  views: {
    ranking: $("view-ranking"),
    meter: $("view-meter"),
    propose: $("view-propose"),
    schedule: $("view-schedule"),
    now: $("view-now"),
    qr: $("view-qr"),
    announcement: $("view-announcement"),
  },
  frame: $("stage"),
  cutLine: $("cut-line"),
  cutLineText: $("cut-line-text"),
  nowBlock: $("now-block"),
  nextBlock: $("next-block"),
  nowClock: $("now-clock"),
  nextClock: $("next-clock"),
  nowCards: $("now-cards"),
  nextCards: $("next-cards"),
  nowEmpty: $("now-empty"),
  qrLead: $("qr-lead"),
  announcement: $("announcement-text"),
  joinScan: $("join-scan"),
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
  cells: 0, // rooms × slots: how many proposals get a room (the results' cut line)
  checkedIn: {},
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

const votingOpenNow = (now) => votingOpen(state.event, now);
const votingStarted = (now) => votingOpenNow(now) || votingOver(state.event, now, state.participation.dots_cast);

// The sessions of the running slot and of the next one, from the published schedule.
function nowAndNext(now) {
  const { slots, sessions } = state.schedule || { slots: [], sessions: [] };
  const used = new Set(sessions.map((s) => s.slot));
  const ordered = slots.filter((s) => used.has(s.id)).sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at));
  const running = ordered.find((s) => Date.parse(s.starts_at) <= now && now < Date.parse(s.ends_at)) || null;
  const next = ordered.find((s) => Date.parse(s.starts_at) > now) || null;
  return { running, next };
}

function sessionsIn(slot) {
  const order = new Map(state.schedule.rooms.map((r, i) => [r.id, i]));
  return state.schedule.sessions.filter((s) => s.slot === slot.id).sort((a, b) => order.get(a.room) - order.get(b.room));
}

// --- state from the feed ------------------------------------------------------------------

function onState(message) {
  state.offset = Date.parse(message.server_time) - Date.now();
  state.participation = message.participation;
  if (message.type === "snapshot") {
    const wasHidden = state.event !== null && !state.countsVisible;
    state.event = message.event;
    useEventTimeZone(state.event.time_zone);
    state.schedule = message.schedule;
    state.cells = message.cells || 0;
    state.checkedIn = message.checked_in || {};
    const published = message.proposals.filter((p) => p.status === "published");
    state.proposals = new Map(published.map((p) => [p.id, p]));
    state.countsVisible = countsVisible(message.event) && published.every((p) => "dots" in p);
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

function hasSchedule() {
  return Boolean(state.event.schedule_published && state.schedule && state.schedule.sessions.length);
}

// The schedule grid's content: the current round's schedule, or — once the event has run
// several rounds (contract 5.1 `rounds`) — every published round's, each slot with its
// round's name so the grid can head each round's rows with it.
function shownSchedule() {
  const schedule = state.schedule;
  const rounds = schedule?.rounds || [];
  if (rounds.length <= 1) return { ...schedule, roundOf: null };
  const slots = [];
  const sessions = [];
  const roundOf = new Map();
  for (const round of rounds) {
    if (!round.published) continue;
    for (const slot of round.slots) {
      slots.push(slot);
      roundOf.set(slot.id, round.name);
    }
    sessions.push(...round.sessions);
  }
  return { rooms: schedule.rooms, slots, sessions, roundOf };
}

// Whether the organizers' "schedule" view has something to show: an earlier round's published
// schedule counts too, while the current round is still proposing or voting.
function hasAnySchedule() {
  if ((state.schedule?.rounds || []).length <= 1) return hasSchedule();
  return shownSchedule().sessions.length > 0;
}

// What the board shows: the organizers' choice (`stage_view`) where it can be shown — never
// counts that are hidden from the hall — else what fits the phase.
function pickMode(now) {
  const e = state.event;
  const chosen = e.stage_view || "auto";
  if (chosen === "qr" || chosen === "announcement") return chosen;
  if (chosen === "ranking") return state.countsVisible ? "ranking" : "meter";
  if (chosen === "results") return state.countsVisible ? "results" : "meter";
  if (chosen === "schedule" && hasAnySchedule()) return chosen;
  if (chosen === "now" && hasSchedule()) return chosen;
  if (hasSchedule()) {
    const { running, next } = nowAndNext(now);
    const soon = next && Date.parse(next.starts_at) - now < NOW_AHEAD_MS;
    return running || soon ? "now" : "schedule";
  }
  if (votingStarted(now)) {
    if (!state.countsVisible) return "meter";
    return votingOpenNow(now) ? "ranking" : "results";
  }
  return "propose";
}

// The join panel: hidden only for a now/next or an announcement the organizers chose; its
// line says what scanning gives in this phase.
function renderFrame(now) {
  const chosen = state.event.stage_view;
  const full = (chosen === "announcement" && state.mode === "announcement") || (chosen === "now" && state.mode === "now");
  els.frame.classList.toggle("is-full", full);
  els.frame.dataset.view = state.mode;
  if (!page.badge_mode) {
    let scan = TEXT.scan.vote;
    if (hasSchedule()) scan = TEXT.scan.schedule;
    else if (votingStarted(now) && !votingOpenNow(now)) scan = TEXT.scan.results;
    setText(els.joinScan, scan);
  }
}

function render() {
  if (!state.event) return;
  const now = serverNow();
  const mode = pickMode(now);
  if (mode !== state.mode) {
    const view = mode === "results" ? "ranking" : mode; // results: the ranking, final, with the cut line
    for (const [name, section] of Object.entries(els.views)) section.hidden = name !== view;
    if (state.mode === "ranking" || state.mode === "results") clearRanking();
    state.mode = mode;
  }
  renderFrame(now);
  renderPhase(now);
  renderJoinVoted(now);
  if (mode === "ranking" || mode === "results") renderRanking(mode === "results");
  else if (mode === "meter") renderMeter(now);
  else if (mode === "propose") renderPropose();
  else if (mode === "now") renderNow(now);
  else if (mode === "qr") setText(els.qrLead, TEXT.qrLead);
  else if (mode === "announcement") setText(els.announcement, state.event.announcement || "");
  else renderSchedule(now);
}

function renderPhase(now) {
  let text;
  let remaining = null;
  if (state.mode === "schedule") text = TEXT.schedule;
  else if (state.mode === "now") text = TEXT.nowNext;
  else if (state.mode === "announcement") text = TEXT.announcement;
  else if (state.mode === "qr") text = TEXT.join;
  else if (state.mode === "results") text = TEXT.results;
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
  const voted = votingStarted(now) && !hasSchedule();
  setText(els.joinVoted, voted ? TEXT.votedShort(voters) : TEXT.joined(attendees));
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
  els.cutLine.hidden = true;
}

// How many proposals get a room: the sessions of a published schedule, else rooms × slots.
function cutAt() {
  if (hasSchedule()) return state.schedule.sessions.length;
  return state.cells;
}

function renderRanking(results) {
  const ranked = [...state.proposals.values()].sort(byRank);
  const ranks = rankNumbers(ranked);
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
    // No dots yet is no rank: a fresh board shows no "=1" on every row.
    const tied = dots > 0 && isTied(ranks, index);
    row.li.dataset.rank = ranks[index];
    row.li.dataset.pos = index + 1;
    // Gold for the leader only once it has dots: on a fresh board the bar is still empty.
    row.li.classList.toggle("is-lead", ranks[index] === 1 && dots > 0);
    row.li.classList.toggle("is-tied", tied);
    row.li.classList.toggle("is-below-cut", results && cutAt() > 0 && index >= cutAt());
    setText(row.rank, dots === 0 ? "–" : tied ? `=${ranks[index]}` : String(ranks[index]));
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
  const notes = [];
  if (ranked.length > ROWS) notes.push(TEXT.more(ranked.length - ROWS));
  else if (ranked.length === 0) notes.push(TEXT.proposalsSoFar(0));
  if (top.some((p, i) => (p.dots || 0) > 0 && isTied(ranks, i))) notes.push(TEXT.tieNote);
  setText(els.rankingFoot, notes.join(" · "));
  renderCutLine(results, ranked, ranks, top.length);
  if (revealing) reveal(top.length);
}

function renderCutLine(results, ranked, ranks, shown) {
  const cut = cutAt();
  const visible = results && cut > 0 && cut < ranked.length;
  els.cutLine.hidden = !visible;
  els.ranking.classList.toggle("has-cut", visible && cut < shown);
  if (!visible) return;
  els.cutLine.style.setProperty("--i", Math.min(cut, shown));
  els.cutLine.classList.toggle("is-below", cut >= shown);
  setText(els.cutLineText, ranks[cut - 1] === ranks[cut] ? TEXT.cutTie(cut) : TEXT.cutLine(cut));
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
      const li = list.querySelector(`.row[data-pos="${place}"]`);
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

// Now/next: per room, what runs and until when, what comes next and when, hosts and how to
// get there, with a countdown from server time.
let nowKey = "";
function renderNow(now) {
  const { running, next } = nowAndNext(now);
  els.nowBlock.hidden = !running;
  els.nextBlock.hidden = !next;
  els.nowEmpty.hidden = Boolean(running || next);
  setText(els.nowEmpty, TEXT.nothingNow);
  if (running) setText(els.nowClock, `${TEXT.until(timeText(running.ends_at))} · ${TEXT.endsIn(clock(Date.parse(running.ends_at) - now))}`);
  if (next) setText(els.nextClock, TEXT.startsIn(timeText(next.starts_at), clock(Date.parse(next.starts_at) - now)));
  const key = JSON.stringify([state.schedule, running && running.id, next && next.id, state.checkedIn, [...state.proposals.keys()]]);
  if (key === nowKey) return;
  nowKey = key;
  els.frame.style.setProperty("--now-rooms", String(state.schedule.rooms.length));
  els.nowCards.replaceChildren(...(running ? sessionsIn(running).map((s) => nowCard(s, true)) : []));
  els.nextCards.replaceChildren(...(next ? sessionsIn(next).map((s) => nowCard(s, false)) : []));
  els.frame.classList.toggle("has-both", Boolean(running && next));
}

function nowCard(session, running) {
  const room = state.schedule.rooms.find((r) => r.id === session.room) || { name: "", directions: "" };
  const proposal = state.proposals.get(session.proposal);
  const li = el("li", `now-card${running ? " is-running" : ""}`);
  const head = el("p", "now-room");
  head.append(el("bdi", "", room.name));
  li.append(head);
  if (room.directions) li.append(el("bdi", "now-directions", room.directions));
  li.append(el("bdi", "now-title", session.title));
  const host = proposal && proposal.host_name;
  if (host) li.append(el("bdi", "now-host", host));
  return li;
}

function renderSchedule(now) {
  const { rooms, slots, sessions, roundOf } = shownSchedule();
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
  grid.style.setProperty("--cell-font", `calc(var(--u) * ${Math.max(2.6, Math.min(3.2, 11 / rooms.length))})`);
  const cells = [el("div", "schedule-corner")];
  for (const room of rooms) cells.push(el("div", "schedule-room", room.name));
  const rowSizes = ["auto"];
  let roundShown = null;
  for (const slot of visible) {
    if (roundOf && roundOf.get(slot.id) !== roundShown) {
      roundShown = roundOf.get(slot.id);
      cells.push(el("bdi", "schedule-round", roundShown));
      rowSizes.push("auto");
    }
    rowSizes.push("minmax(0, calc(var(--u) * 14))");
    const isNow = current && current.id === slot.id;
    const time = el("div", `schedule-time${isNow ? " is-now" : ""}`, timeText(slot.starts_at));
    time.append(el("span", "schedule-end", `–${timeText(slot.ends_at)}`));
    const label = slot.label || (isNow ? TEXT.now : "");
    if (label) time.append(el("small", "", label));
    cells.push(time);
    for (const room of rooms) {
      const session = bySpot.get(`${room.id}:${slot.id}`);
      const cell = el("div", `schedule-cell${session ? "" : " is-empty"}${session && isNow ? " is-now" : ""}`);
      if (session) {
        cell.append(el("bdi", "cell-title", session.title));
        const proposal = state.proposals.get(session.proposal);
        if (proposal && proposal.host_name) cell.append(el("bdi", "cell-host", proposal.host_name));
      }
      cells.push(cell);
    }
  }
  grid.style.setProperty("grid-template-rows", roundOf ? rowSizes.join(" ") : "");
  grid.replaceChildren(...cells);
  fitCells(grid);
  const later = ordered.length - (first + visible.length);
  setText(els.scheduleFoot, later > 0 ? TEXT.laterSlots(later) : TEXT.scheduleFoot(page.host));
}

// A title whose longest word does not fit its cell gets a smaller font, down to the floor of
// the board (no text under 24 px at 1080p), rather than a word broken in the middle.
function fitCells(grid) {
  const floor = 2.4 * Math.min(innerHeight / 100, innerWidth * 0.005625); // 2.4u, as --u in stage.css
  for (const title of grid.querySelectorAll(".cell-title")) {
    title.style.removeProperty("font-size");
    let size = parseFloat(getComputedStyle(title).fontSize);
    while (title.scrollWidth > title.clientWidth + 1 && size > floor) {
      size = Math.max(floor, size - 2);
      title.style.setProperty("font-size", `${size}px`);
    }
    title.classList.toggle("is-squeezed", title.scrollWidth > title.clientWidth + 1);
  }
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
  if (pickMode(now) !== state.mode || state.mode === "schedule" || state.mode === "now") render();
  else {
    renderPhase(now);
    if (state.mode === "meter") renderMeter(now);
  }
}, 250);

connectFeed(page.slug, { onState, onStatus, view: "stage" });
