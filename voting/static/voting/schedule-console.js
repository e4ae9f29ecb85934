// The organizer's schedule console: rooms and slots, generate, clashes, move (drag and drop,
// menus or keyboard), pin, take out, publish. Every change goes through the schedule API; the
// live feed keeps the page in step with other organizers and with votes still coming in.
// Attendee text (titles, explanations) is only ever set as text, never as markup.

import { api } from "./api.js";
import { $, h } from "./dom.js";
import { connectFeed } from "./feed.js";
import { fill, pageStrings, plurals } from "./i18n.js";
import { byRank } from "./rank.js";

// Every sentence comes translated from Django (voting/schedule_console.py SCHEDULE_STRINGS).
const S = pageStrings("schedule-data");
const plural = plurals(S);
const T = {
  draft: S.draft,
  published: S.published,
  generate: S.generate,
  regenerate: S.regenerate,
  publish: S.publish,
  unpublish: S.unpublish,
  status: {
    live: S.live,
    connecting: S.connecting,
    reconnecting: S.reconnecting,
    gone: S.gone,
    forbidden: S.forbidden,
  },
  slotColumn: S.slot,
  seats: (n) => plural("seats", n),
  voters: (n) => plural("voters", n),
  dots: (n) => plural("dots", n),
  roomFor: (title) => fill(S.room_for, { title }),
  slotFor: (title) => fill(S.slot_for, { title }),
  room: S.room,
  slot: S.slot,
  pin: S.pin,
  pinned: S.pinned,
  pinFor: (title) => fill(S.pin_for, { title }),
  remove: S.remove,
  removeFor: (title) => fill(S.remove_for, { title }),
  why: S.why,
  free: S.free,
  cellLabel: (room, slot, title) => (title ? fill(S.cell, { room, slot, title }) : fill(S.cell_free, { room, slot })),
  over: (voters, seats) => fill(S.over, { voters, seats }),
  overShort: S.over_short,
  clashBadge: (n) => plural("clash_badge", n),
  pair: (n) => plural("pair", n),
  clashesIn: (n) => plural("clashes_in", n),
  noRoomsOrSlots: S.no_rooms_or_slots,
  notGenerated: S.not_generated,
  generated: (sessions, clashes, left) =>
    left
      ? plural("generated_left", left, { sessions, clashes })
      : fill(S.generated, { sessions, clashes }),
  droppedPins: (titles) => ` ${fill(S.dropped_pins, { titles })}`,
  moved: (title) => fill(S.moved, { title }),
  added: (title) => fill(S.added, { title }),
  removed: (title) => fill(S.removed, { title }),
  pinnedMessage: (title) => fill(S.pinned_message, { title }),
  unpinnedMessage: (title) => fill(S.unpinned_message, { title }),
  publishedMessage: S.published_message,
  unpublishedMessage: S.unpublished_message,
  confirmRegenerate: S.confirm_regenerate,
  confirmDeleteRoom: (name, n) => plural("confirm_delete_room", n, { name }),
  confirmDeleteSlot: (name, n) => plural("confirm_delete_slot", n, { name }),
  roomName: S.room_name,
  capacity: S.capacity,
  label: S.label,
  starts: S.starts,
  ends: S.ends,
  save: S.save,
  delete: S.delete,
  deleteRoom: (name) => fill(S.delete_room, { name }),
  deleteSlot: (name) => fill(S.delete_slot, { name }),
  roomSaved: (name) => fill(S.room_saved, { name }),
  roomAdded: (name) => fill(S.room_added, { name }),
  roomDeleted: (name) => fill(S.room_deleted, { name }),
  slotSaved: (name) => fill(S.slot_saved, { name }),
  slotAdded: (name) => fill(S.slot_added, { name }),
  slotDeleted: (name) => fill(S.slot_deleted, { name }),
  noRooms: S.no_rooms,
  noSlots: S.no_slots,
  placeIn: S.place_in,
  placeFor: (title) => fill(S.place_for, { title }),
  noFreeCell: S.no_free_cell,
  allScheduled: S.all_scheduled,
  noProposals: S.no_proposals,
  pickedUp: (title) => fill(S.picked_up, { title }),
  cancelled: S.cancelled,
  conflictBadge: S.conflict_badge,
  noConflicts: S.no_conflicts,
  continues: (title) => fill(S.continues, { title }),
  slotsLong: (n) => plural("slots_long", n),
  lengthFor: (title) => fill(S.length_for, { title }),
  lengthOption: (n) => plural("slots_long", n),
  lengthSet: (title, n) => plural("length_set", n, { title }),
  cohosts: (n) => plural("cohosts", n),
  blockedHere: (reason) => fill(S.blocked_here, { reason }),
  slotAddedTo: (name, round) => fill(S.slot_added_to, { name, round }),
  earlierPublished: S.earlier_published,
  earlierUnpublished: S.earlier_unpublished,
  earlierClashes: (n) => plural("earlier_clashes", n),
  earlierNone: S.earlier_none,
  earlierRoom: S.earlier_room,
  earlierTime: S.earlier_time,
  earlierSession: S.earlier_session,
};

const MIME = "application/x-unconf-proposal";
const data = JSON.parse(document.getElementById("schedule-data").textContent);
const API = data.api;

const grid = $("sc-grid");
const state = {
  schedule: null,
  proposals: [],
  clashes: { clash_total: 0, slots: [] },
  busy: false,
  dragging: false,
  carrying: null, // {id, title} while a session is moved with the keyboard
  renderPending: false,
  lastRooms: "",
  lastSlots: "",
  lastEarlier: "",
};

// --- small helpers -----------------------------------------------------------------------------

const bdi = (text) => h("bdi", { text });

const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  timeZone: data.time_zone,
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const dayFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
  timeZone: data.time_zone,
  weekday: "short",
  day: "numeric",
  month: "short",
});

const timeRange = (slot) =>
  `${timeFormat.format(new Date(slot.starts_at))}–${timeFormat.format(new Date(slot.ends_at))}`;
const slotName = (slot) => slot.label || timeRange(slot);
// Slot times come with the server's offset: their first 16 characters are its wall time.
const wallTime = (iso) => iso.slice(0, 16);

function addMinutes(wall, minutes) {
  const moment = new Date(`${wall}:00Z`);
  moment.setUTCMinutes(moment.getUTCMinutes() + minutes);
  return moment.toISOString().slice(0, 16);
}

const minutesBetween = (a, b) => Math.round((new Date(b) - new Date(a)) / 60000);

// --- talking to the API ------------------------------------------------------------------------

async function refresh() {
  const [schedule, clashes, proposals] = await Promise.all([
    api("GET", `${API}/schedule`),
    api("GET", `${API}/schedule/clashes`),
    api("GET", `${API}/proposals?order=top`),
  ]);
  state.schedule = schedule;
  state.clashes = clashes;
  state.proposals = proposals;
  render();
}

let refreshTimer = null;
function refreshSoon(delay = 1200) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh().catch(() => {});
  }, delay);
}

function say(text, kind = "ok") {
  const box = $("sc-message");
  box.textContent = text;
  box.dataset.kind = kind;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.hidden = !text;
}

function announce(text) {
  $("sc-announce").textContent = text;
}

function setBusy(busy) {
  state.busy = busy;
  document.body.classList.toggle("sc-busy", busy);
  document.querySelector(".sc-board").setAttribute("aria-busy", busy ? "true" : "false");
  renderToolbar();
}

// Changes run one after another, in the order the organizer made them: a move made while
// the previous one is still on its way waits for it instead of being dropped.
let queue = Promise.resolve();
let pending = 0;

function run(task, success) {
  pending += 1;
  setBusy(true);
  queue = queue.then(async () => {
    try {
      const result = await task();
      await refresh();
      if (success) say(typeof success === "function" ? success(result) : success);
    } catch (error) {
      say(error.message, "error");
      await refresh().catch(() => {});
    } finally {
      pending -= 1;
      setBusy(pending > 0);
    }
  });
  return queue;
}

// --- derived views of the state ----------------------------------------------------------------

function titleOf(id) {
  const session = state.schedule?.sessions.find((s) => s.proposal === Number(id));
  if (session) return session.title;
  const proposal = state.proposals.find((p) => p.id === Number(id));
  return proposal ? proposal.title : "";
}

function clashVotersBySession() {
  const shared = new Map();
  for (const slot of state.clashes.slots) {
    for (const pair of slot.pairs) {
      for (const id of pair.sessions) shared.set(id, (shared.get(id) || 0) + pair.voters);
    }
  }
  return shared;
}

function sessionsInRoom(roomId) {
  return state.schedule.sessions.filter((s) => s.room === roomId).length;
}

function sessionsInSlot(slotId) {
  return state.schedule.sessions.filter((s) => s.slot === slotId).length;
}

// --- rendering ---------------------------------------------------------------------------------

function render() {
  if (!state.schedule) return;
  if (state.dragging || state.carrying) {
    state.renderPending = true;
    return;
  }
  state.renderPending = false;
  const focused = document.activeElement?.dataset?.key;
  renderToolbar();
  renderGrid();
  renderConflicts();
  renderUnscheduled();
  renderEarlierRounds();
  renderRooms();
  renderSlots();
  if (focused) {
    const again = document.querySelector(`[data-key="${CSS.escape(focused)}"]`);
    if (again && again !== document.activeElement) again.focus({ preventScroll: true });
  }
}

function renderToolbar() {
  const schedule = state.schedule;
  if (!schedule) return;
  const pill = $("sc-state");
  pill.dataset.state = schedule.published ? "published" : "draft";
  pill.textContent = schedule.published ? T.published : T.draft;

  const clash = $("sc-clash-metric");
  $("sc-clash-total").textContent = String(schedule.clash_total ?? 0);
  clash.dataset.level = schedule.sessions.length === 0 ? "none" : schedule.clash_total > 0 ? "bad" : "good";

  const over = $("sc-over-metric");
  $("sc-over-total").textContent = String(schedule.over_capacity.length);
  over.dataset.level =
    schedule.sessions.length === 0 ? "none" : schedule.over_capacity.length > 0 ? "warn" : "good";

  const cells = schedule.rooms.length * schedule.slots.length;
  $("sc-filled").textContent = `${schedule.sessions.length} / ${cells}`;

  const generate = $("sc-generate");
  generate.textContent = schedule.sessions.length ? T.regenerate : T.generate;
  generate.disabled = state.busy || cells === 0;

  const publish = $("sc-publish");
  publish.textContent = schedule.published ? T.unpublish : T.publish;
  publish.classList.toggle("sc-btn-publish", !schedule.published);
  publish.disabled = state.busy || (!schedule.published && schedule.sessions.length === 0);
}

function renderGrid() {
  const { rooms, slots, sessions } = state.schedule;
  const empty = $("sc-empty");
  const openWhy = new Set(
    [...grid.querySelectorAll("details[open]")].map((details) => details.closest("[data-proposal]").dataset.proposal),
  );
  grid.replaceChildren();
  if (!rooms.length || !slots.length) {
    empty.textContent = T.noRoomsOrSlots;
    empty.hidden = false;
    return;
  }
  empty.textContent = T.notGenerated;
  empty.hidden = sessions.length > 0;

  const at = new Map(sessions.map((s) => [`${s.room}:${s.slot}`, s]));
  const continued = new Map(sessions.flatMap((s) => s.slots.slice(1).map((slot) => [`${s.room}:${slot}`, s])));
  const over = new Set(state.schedule.over_capacity);
  const shared = clashVotersBySession();
  const pairsBySlot = new Map(state.clashes.slots.map((entry) => [entry.slot, entry.pairs]));
  const days = new Set(slots.map((slot) => dayFormat.format(new Date(slot.starts_at))));

  grid.append(
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col", class: "sc-corner", text: T.slotColumn }),
        rooms.map((room) =>
          h(
            "th",
            { scope: "col", class: "sc-room-head" },
            h("span", { class: "sc-room-name" }, bdi(room.name)),
            h("span", { class: "sc-room-seats", text: T.seats(room.capacity) }),
          ),
        ),
      ),
    ),
  );
  const body = h("tbody");
  slots.forEach((slot, row) => {
    const pairs = pairsBySlot.get(slot.id) || [];
    const head = h(
      "th",
      { scope: "row", class: "sc-slot-head" },
      h("span", { class: "sc-slot-label" }, bdi(slotName(slot))),
      h("span", { class: "sc-slot-time", text: slot.label ? timeRange(slot) : "" }),
      days.size > 1 ? h("span", { class: "sc-slot-day", text: dayFormat.format(new Date(slot.starts_at)) }) : null,
    );
    const cells = rooms.map((room, col) => {
      const session = at.get(`${room.id}:${slot.id}`);
      const rest = continued.get(`${room.id}:${slot.id}`);
      return h(
        "td",
        {
          class: session ? "sc-cell" : "sc-cell sc-cell-free",
          tabindex: "-1",
          "data-room": room.id,
          "data-slot": slot.id,
          "data-row": row,
          "data-col": col,
          "data-key": `cell-${room.id}-${slot.id}`,
          "aria-label": T.cellLabel(room.name, slotName(slot), session ? session.title : ""),
        },
        session
          ? sessionCard(session, { room, slot, over: over.has(session.proposal), shared, open: openWhy })
          : rest
            ? h("span", { class: "sc-continues", text: T.continues(rest.title) })
            : h("span", { class: "sc-free", text: T.free }),
      );
    });
    body.append(h("tr", { class: pairs.length ? "sc-row sc-row-clash" : "sc-row" }, head, cells));
    if (pairs.length) body.append(clashRow(pairs, rooms.length));
  });
  grid.append(body);
}

function sessionCard(session, { room, slot, over, shared, open }) {
  const { rooms, slots } = state.schedule;
  const id = session.proposal;
  const clashVoters = shared.get(id) || 0;
  const classes = ["sc-card"];
  if (session.pinned) classes.push("sc-card-pinned");
  if (clashVoters) classes.push("sc-card-clash");
  if (over) classes.push("sc-card-over");
  const broken = conflictsOf(id);
  if (broken.length) classes.push("sc-card-conflict");
  const proposal = state.proposals.find((p) => p.id === id);
  const cohosts = Math.max(0, (proposal?.hosts?.length ?? 0) - 1);
  const why = h(
    "details",
    { class: "sc-why", open: open.has(String(id)) },
    h("summary", { text: T.why }),
    h("p", { text: session.explanation }),
  );
  return h(
    "article",
    {
      class: classes.join(" "),
      draggable: "true",
      tabindex: "0",
      "data-proposal": id,
      "data-key": `card-${id}`,
      "aria-describedby": "sc-help",
    },
    h(
      "div",
      { class: "sc-card-head" },
      h("h3", { class: "sc-card-title" }, bdi(session.title)),
      h(
        "button",
        {
          type: "button",
          class: "sc-pin",
          "aria-pressed": session.pinned ? "true" : "false",
          "aria-label": T.pinFor(session.title),
          "data-key": `pin-${id}`,
          onclick: () => togglePin(session),
        },
        h("span", { class: "sc-pin-icon", "aria-hidden": "true" }),
        session.pinned ? T.pinned : T.pin,
      ),
    ),
    h(
      "p",
      { class: "sc-card-meta" },
      h("span", { class: "sc-voters", text: T.voters(session.voters) }),
      over ? h("span", { class: "sc-badge sc-badge-over", title: T.over(session.voters, room.capacity), text: T.overShort }) : null,
      clashVoters ? h("span", { class: "sc-badge sc-badge-clash", text: T.clashBadge(clashVoters) }) : null,
      session.length > 1 ? h("span", { class: "sc-badge sc-badge-long", text: T.slotsLong(session.length) }) : null,
      cohosts ? h("span", { class: "sc-badge", text: T.cohosts(cohosts) }) : null,
      broken.length
        ? h("span", { class: "sc-badge sc-badge-conflict", title: broken.join(" "), text: T.conflictBadge })
        : null,
    ),
    h(
      "div",
      { class: "sc-card-move" },
      select(
        { "aria-label": T.roomFor(session.title), "data-key": `room-${id}`, class: "sc-select-room" },
        rooms.map((r) => [r.id, r.name]),
        room.id,
        (value) => place(id, { room: Number(value) }, T.moved(session.title)),
      ),
      select(
        { "aria-label": T.slotFor(session.title), "data-key": `slot-${id}`, class: "sc-select-slot" },
        slots.map((t) => [t.id, slotName(t)]),
        slot.id,
        (value) => place(id, { slot: Number(value) }, T.moved(session.title)),
      ),
      lengthSelect(id, session.title, session.length),
    ),
    h(
      "div",
      { class: "sc-card-foot" },
      why,
      h("button", {
        type: "button",
        class: "sc-remove",
        text: T.remove,
        "aria-label": T.removeFor(session.title),
        "data-key": `remove-${id}`,
        onclick: () => removeSession(session),
      }),
    ),
  );
}

function conflictsOf(id) {
  return (state.schedule.conflicts || []).filter((c) => c.proposals.includes(id)).map((c) => c.reason);
}

function lengthSelect(id, title, length) {
  const choices = [1, 2, 3, 4].map((n) => [n, T.lengthOption(n)]);
  return select({ "aria-label": T.lengthFor(title), "data-key": `length-${id}`, class: "sc-select-length" }, choices, length, (value) =>
    run(() => api("PATCH", `${API}/proposals/${id}`, { length: Number(value) }), T.lengthSet(title, Number(value))),
  );
}

function renderConflicts() {
  const list = $("sc-conflicts");
  const conflicts = state.schedule.conflicts || [];
  list.replaceChildren(
    ...(conflicts.length
      ? conflicts.map((c) => {
          const item = h("li", { class: "sc-conflict" }, bdi(c.reason));
          item.addEventListener("mouseenter", () => highlight(c.proposals, true));
          item.addEventListener("mouseleave", () => highlight(c.proposals, false));
          return item;
        })
      : [h("li", { class: "sc-none", text: T.noConflicts })]),
  );
  $("sc-conflicts-panel").dataset.level = conflicts.length ? "bad" : "good";
}

// While a session is dragged or carried, the cells where it would break a hard constraint are
// marked with the reason; dropping there is allowed (organizers decide) and then reported.
function showConstraints(id) {
  const blocked = new Map(((state.schedule.constraints || {})[id] || []).map((c) => [c.slot, c.reason]));
  for (const cell of grid.querySelectorAll("td.sc-cell")) {
    const reason = blocked.get(Number(cell.dataset.slot));
    cell.classList.toggle("sc-cell-blocked", Boolean(reason));
    if (reason) cell.dataset.blocked = reason;
    else delete cell.dataset.blocked;
    if (reason) cell.title = T.blockedHere(reason);
    else cell.removeAttribute("title");
  }
}

function clearConstraints() {
  for (const cell of grid.querySelectorAll("td.sc-cell-blocked")) {
    cell.classList.remove("sc-cell-blocked");
    delete cell.dataset.blocked;
    cell.removeAttribute("title");
  }
}

function select(attributes, options, selected, onChange) {
  const element = h("select", attributes);
  for (const [value, text] of options) {
    const option = h("option", { value, text });
    if (value === selected) option.selected = true;
    element.append(option);
  }
  element.addEventListener("change", () => onChange(element.value));
  return element;
}

function clashRow(pairs, columns) {
  const list = h(
    "ul",
    { class: "sc-pairs" },
    pairs.map((pair) => {
      const [a, b] = pair.sessions;
      const item = h(
        "li",
        { class: "sc-pair", "data-a": a, "data-b": b },
        h("span", { class: "sc-pair-titles" }, "“", bdi(titleOf(a)), "” × “", bdi(titleOf(b)), "”"),
        h("span", { class: "sc-pair-count", text: T.pair(pair.voters) }),
      );
      item.addEventListener("mouseenter", () => highlight([a, b], true));
      item.addEventListener("mouseleave", () => highlight([a, b], false));
      return item;
    }),
  );
  return h(
    "tr",
    { class: "sc-clash-row" },
    h("td", { colspan: columns + 1 }, h("span", { class: "sc-pairs-intro", text: T.clashesIn(pairs.length) }), list),
  );
}

function highlight(ids, on) {
  for (const id of ids) {
    grid.querySelector(`[data-key="card-${id}"]`)?.classList.toggle("sc-card-highlight", on);
  }
}

function freeCells() {
  const { rooms, slots, sessions } = state.schedule;
  const taken = new Set(sessions.map((s) => `${s.room}:${s.slot}`));
  const cells = [];
  for (const slot of slots) {
    for (const room of rooms) {
      if (!taken.has(`${room.id}:${slot.id}`)) cells.push({ room, slot });
    }
  }
  return cells;
}

// Earlier rounds' schedules (contract 5.1 `rounds`), read only: time, room, title per session.
function renderEarlierRounds() {
  const { rounds = [], rooms } = state.schedule;
  // Rounds start one after another: the current round is the last one started.
  const earlier = rounds.slice(0, -1);
  const key = JSON.stringify([earlier, rooms]);
  if (key === state.lastEarlier) return;
  state.lastEarlier = key;
  $("sc-earlier").hidden = earlier.length === 0;
  const roomName = new Map(rooms.map((room) => [room.id, room.name]));
  $("sc-earlier-rounds").replaceChildren(
    ...earlier.map((round) => {
      const slots = new Map(round.slots.map((slot) => [slot.id, slot]));
      const sessions = [...round.sessions].sort(
        (a, b) =>
          Date.parse(slots.get(a.slot)?.starts_at ?? 0) - Date.parse(slots.get(b.slot)?.starts_at ?? 0) ||
          String(roomName.get(a.room) ?? "").localeCompare(String(roomName.get(b.room) ?? "")),
      );
      const meta = `${round.published ? T.earlierPublished : T.earlierUnpublished} · ${T.earlierClashes(round.clash_total)}`;
      const body = sessions.length
        ? h(
            "table",
            { class: "sc-earlier-table" },
            h(
              "thead",
              {},
              h("tr", {}, h("th", { scope: "col", text: T.earlierTime }), h("th", { scope: "col", text: T.earlierRoom }), h("th", { scope: "col", text: T.earlierSession })),
            ),
            h(
              "tbody",
              {},
              sessions.map((session) => {
                const first = slots.get(session.slot);
                const last = slots.get(session.slots[session.slots.length - 1]) || first;
                const when = first ? `${slotName(first)}${last !== first ? `–${timeFormat.format(new Date(last.ends_at))}` : ""}` : "";
                return h(
                  "tr",
                  { "data-proposal": session.proposal },
                  h("td", { text: when }),
                  h("td", {}, bdi(roomName.get(session.room) ?? "")),
                  h("td", { class: "sc-earlier-title" }, bdi(session.title)),
                );
              }),
            ),
          )
        : h("p", { class: "sc-none", text: T.earlierNone });
      return h(
        "section",
        { class: "sc-earlier-round", "data-round": round.id },
        h("h3", {}, bdi(round.name), " ", h("span", { class: "sc-hint", text: meta })),
        body,
      );
    }),
  );
}

function renderUnscheduled() {
  const list = $("sc-unscheduled");
  const scheduled = new Set(state.schedule.sessions.map((s) => s.proposal));
  const published = state.proposals.filter((p) => p.status === "published");
  const waiting = published
    .filter((p) => !scheduled.has(p.id))
    .sort(byRank);
  list.replaceChildren();
  if (!waiting.length) {
    list.append(h("li", { class: "sc-none", text: published.length ? T.allScheduled : T.noProposals }));
    return;
  }
  const free = freeCells();
  const reasons = new Map((state.schedule.unscheduled || []).map((u) => [u.proposal, u.reason]));
  for (const proposal of waiting) {
    const picker = h("select", { "aria-label": T.placeFor(proposal.title), "data-key": `place-${proposal.id}` });
    picker.append(h("option", { value: "", text: free.length ? T.placeIn : T.noFreeCell }));
    for (const { room, slot } of free) {
      picker.append(h("option", { value: `${room.id}:${slot.id}`, text: `${room.name} · ${slotName(slot)}` }));
    }
    picker.disabled = !free.length;
    picker.addEventListener("change", () => {
      if (!picker.value) return;
      const [room, slot] = picker.value.split(":").map(Number);
      place(proposal.id, { room, slot }, T.added(proposal.title));
    });
    list.append(
      h(
        "li",
        {
          class: "sc-u-item",
          draggable: "true",
          tabindex: "0",
          "data-proposal": proposal.id,
          "data-key": `u-${proposal.id}`,
          "aria-describedby": "sc-help",
        },
        h("span", { class: "sc-u-title" }, bdi(proposal.title)),
        h("span", {
          class: "sc-u-meta",
          text: proposal.dots === undefined ? "" : `${T.dots(proposal.dots)} · ${T.voters(proposal.voters)}`,
        }),
        reasons.get(proposal.id) ? h("span", { class: "sc-u-reason" }, bdi(reasons.get(proposal.id))) : null,
        picker,
      ),
    );
  }
}

function renderRooms() {
  const rooms = state.schedule.rooms;
  const key = JSON.stringify(rooms);
  if (key === state.lastRooms) return;
  state.lastRooms = key;
  const list = $("sc-rooms");
  list.replaceChildren();
  if (!rooms.length) list.append(h("li", { class: "sc-none", text: T.noRooms }));
  for (const room of rooms) {
    const name = h("input", {
      name: "name",
      value: room.name,
      maxlength: 80,
      required: true,
      "aria-label": T.roomName,
      "data-key": `room-name-${room.id}`,
      autocomplete: "off",
    });
    const capacity = h("input", {
      name: "capacity",
      type: "number",
      min: 1,
      max: 100000,
      value: room.capacity,
      "aria-label": T.capacity,
      "data-key": `room-capacity-${room.id}`,
      class: "sc-capacity",
    });
    const save = h("button", { type: "submit", class: "sc-btn sc-btn-small", text: T.save, disabled: true });
    const form = h(
      "form",
      { class: "sc-edit-row sc-edit-room", novalidate: true },
      name,
      capacity,
      save,
      h("button", {
        type: "button",
        class: "sc-btn sc-btn-small sc-btn-danger",
        text: T.delete,
        "aria-label": T.deleteRoom(room.name),
        onclick: () => deleteRoom(room),
      }),
    );
    form.addEventListener("input", () => {
      save.disabled = name.value.trim() === room.name && Number(capacity.value) === room.capacity;
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const change = { name: name.value.trim(), capacity: Number(capacity.value) };
      run(() => api("PATCH", `${API}/rooms/${room.id}`, change), T.roomSaved(change.name));
    });
    list.append(h("li", {}, form));
  }
}

function renderSlots() {
  const slots = state.schedule.slots;
  const key = JSON.stringify(slots);
  if (key === state.lastSlots) return;
  state.lastSlots = key;
  const list = $("sc-slots");
  list.replaceChildren();
  if (!slots.length) list.append(h("li", { class: "sc-none", text: T.noSlots }));
  for (const slot of slots) {
    const label = h("input", {
      name: "label",
      value: slot.label,
      maxlength: 80,
      placeholder: timeRange(slot),
      "aria-label": T.label,
      "data-key": `slot-label-${slot.id}`,
      autocomplete: "off",
    });
    const starts = h("input", {
      name: "starts_at",
      type: "datetime-local",
      value: wallTime(slot.starts_at),
      "aria-label": T.starts,
      "data-key": `slot-starts-${slot.id}`,
    });
    const ends = h("input", {
      name: "ends_at",
      type: "datetime-local",
      value: wallTime(slot.ends_at),
      "aria-label": T.ends,
      "data-key": `slot-ends-${slot.id}`,
    });
    const save = h("button", { type: "submit", class: "sc-btn sc-btn-small", text: T.save, disabled: true });
    const form = h(
      "form",
      { class: "sc-edit-row sc-edit-slot", novalidate: true },
      label,
      save,
      h("button", {
        type: "button",
        class: "sc-btn sc-btn-small sc-btn-danger",
        text: T.delete,
        "aria-label": T.deleteSlot(slotName(slot)),
        onclick: () => deleteSlot(slot),
      }),
      h("div", { class: "sc-slot-times" }, starts, ends),
    );
    form.addEventListener("input", () => {
      save.disabled =
        label.value.trim() === slot.label &&
        starts.value === wallTime(slot.starts_at) &&
        ends.value === wallTime(slot.ends_at);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const change = { label: label.value.trim(), starts_at: starts.value, ends_at: ends.value };
      run(() => api("PATCH", `${API}/slots/${slot.id}`, change), (saved) => T.slotSaved(slotName(saved)));
    });
    list.append(h("li", {}, form));
  }
  prefillNextSlot();
}

function prefillNextSlot() {
  const form = $("sc-slot-form");
  const slots = state.schedule.slots;
  if (!slots.length || form.contains(document.activeElement)) return;
  const last = slots[slots.length - 1];
  const length = minutesBetween(last.starts_at, last.ends_at);
  form.elements.starts_at.value = wallTime(last.ends_at);
  form.elements.ends_at.value = addMinutes(wallTime(last.ends_at), length);
}

// --- actions -----------------------------------------------------------------------------------

function place(id, change, message) {
  return run(() => api("PATCH", `${API}/schedule/sessions/${id}`, change), message);
}

function togglePin(session) {
  const pinned = !session.pinned;
  place(session.proposal, { pinned }, pinned ? T.pinnedMessage(session.title) : T.unpinnedMessage(session.title));
}

function removeSession(session) {
  run(() => api("DELETE", `${API}/schedule/sessions/${session.proposal}`), T.removed(session.title));
}

function deleteRoom(room) {
  const count = sessionsInRoom(room.id);
  if (count && !window.confirm(T.confirmDeleteRoom(room.name, count))) return;
  run(() => api("DELETE", `${API}/rooms/${room.id}`), T.roomDeleted(room.name));
}

function deleteSlot(slot) {
  const count = sessionsInSlot(slot.id);
  if (count && !window.confirm(T.confirmDeleteSlot(slotName(slot), count))) return;
  run(() => api("DELETE", `${API}/slots/${slot.id}`), T.slotDeleted(slotName(slot)));
}

function generatedMessage(result) {
  let text = T.generated(result.sessions.length, result.clash_total, result.unscheduled.length);
  if (result.dropped_pins.length) text += T.droppedPins(result.dropped_pins.map((id) => `“${titleOf(id)}”`).join(", "));
  return text;
}

$("sc-generate").addEventListener("click", () => {
  if (state.schedule.published && !window.confirm(T.confirmRegenerate)) return;
  run(() => api("POST", `${API}/schedule/generate`, { fill: $("sc-fill").value }), generatedMessage);
});

$("sc-publish").addEventListener("click", () => {
  const publishing = !state.schedule.published;
  run(
    () => api("POST", `${API}/schedule/${publishing ? "publish" : "unpublish"}`),
    publishing ? T.publishedMessage : T.unpublishedMessage,
  );
});

$("sc-room-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const room = { name: form.elements.name.value.trim(), capacity: Number(form.elements.capacity.value) };
  run(async () => {
    const created = await api("POST", `${API}/rooms`, room);
    form.reset();
    return created;
  }, (created) => T.roomAdded(created.name));
});

$("sc-slot-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const slot = {
    label: form.elements.label.value.trim(),
    starts_at: form.elements.starts_at.value,
    ends_at: form.elements.ends_at.value,
  };
  const choice = form.elements.round;
  if (choice && choice.value) slot.round = Number(choice.value);
  const roundName = choice?.selectedOptions[0]?.dataset.name;
  run(async () => {
    const created = await api("POST", `${API}/slots`, slot);
    form.elements.label.value = "";
    form.elements.label.blur();
    return created;
  }, (created) =>
    created.round === state.schedule.rounds?.at(-1)?.id || !roundName
      ? T.slotAdded(slotName(created))
      : T.slotAddedTo(slotName(created), roundName),
  );
});

// --- drag and drop -----------------------------------------------------------------------------

function dropOnCell(id, cell) {
  const room = Number(cell.dataset.room);
  const slot = Number(cell.dataset.slot);
  const session = state.schedule.sessions.find((s) => s.proposal === Number(id));
  if (session && session.room === room && session.slot === slot) return;
  const title = titleOf(id);
  return place(id, { room, slot }, session ? T.moved(title) : T.added(title));
}

document.addEventListener("dragstart", (event) => {
  const item = event.target.closest?.("[draggable='true'][data-proposal]");
  if (!item) return;
  state.dragging = true;
  event.dataTransfer.setData(MIME, item.dataset.proposal);
  event.dataTransfer.setData("text/plain", titleOf(item.dataset.proposal));
  event.dataTransfer.effectAllowed = "move";
  item.classList.add("sc-dragging");
  grid.classList.add("sc-drag-on");
  showConstraints(item.dataset.proposal);
});

document.addEventListener("dragend", (event) => {
  event.target.classList?.remove("sc-dragging");
  grid.classList.remove("sc-drag-on");
  grid.querySelectorAll(".sc-drop").forEach((cell) => cell.classList.remove("sc-drop"));
  clearConstraints();
  state.dragging = false;
  if (state.renderPending) render();
});

grid.addEventListener("dragover", (event) => {
  const cell = event.target.closest("td.sc-cell");
  if (!cell || !event.dataTransfer.types.includes(MIME)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  cell.classList.add("sc-drop");
  if (cell.dataset.blocked) announce(T.blockedHere(cell.dataset.blocked));
});

grid.addEventListener("dragleave", (event) => {
  const cell = event.target.closest("td.sc-cell");
  if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("sc-drop");
});

grid.addEventListener("drop", (event) => {
  const cell = event.target.closest("td.sc-cell");
  const id = event.dataTransfer.getData(MIME);
  if (!cell || !id) return;
  event.preventDefault();
  cell.classList.remove("sc-drop");
  state.dragging = false;
  dropOnCell(id, cell);
});

// --- the same with the keyboard: Space picks up, arrows choose, Enter drops, Escape cancels ----

function cellAt(row, col) {
  return grid.querySelector(`td.sc-cell[data-row="${row}"][data-col="${col}"]`);
}

function pickUp(item) {
  const id = item.dataset.proposal;
  state.carrying = { id, title: titleOf(id), from: item.dataset.key };
  grid.classList.add("sc-carrying");
  item.classList.add("sc-dragging");
  showConstraints(id);
  const start = item.closest("td.sc-cell") || cellAt(0, 0);
  start?.focus();
  announce(T.pickedUp(state.carrying.title));
}

function putDown({ cancelled }) {
  const carrying = state.carrying;
  state.carrying = null;
  grid.classList.remove("sc-carrying");
  document.querySelectorAll(".sc-dragging").forEach((item) => item.classList.remove("sc-dragging"));
  clearConstraints();
  if (cancelled) {
    announce(T.cancelled);
    if (state.renderPending) render();
    document.querySelector(`[data-key="${CSS.escape(carrying.from)}"]`)?.focus();
  }
  return carrying;
}

function onItemKey(event) {
  if (state.carrying) return;
  const item = event.target;
  if (!item.matches?.("[draggable='true'][data-proposal]")) return;
  if (event.key === " " || event.key === "Enter") {
    event.preventDefault();
    pickUp(item);
  }
}

grid.addEventListener("keydown", (event) => {
  if (!state.carrying) {
    onItemKey(event);
    return;
  }
  const cell = event.target.closest("td.sc-cell");
  if (!cell) return;
  const row = Number(cell.dataset.row);
  const col = Number(cell.dataset.col);
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  if (moves[event.key]) {
    event.preventDefault();
    const [dr, dc] = moves[event.key];
    const next = cellAt(row + dr, col + dc);
    next?.focus();
    if (next?.dataset.blocked) announce(T.blockedHere(next.dataset.blocked));
  } else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    const carrying = putDown({ cancelled: false });
    // Keyboard users keep their place: focus follows the session to its new cell.
    Promise.resolve(dropOnCell(carrying.id, cell)).then(() => {
      const moved = grid.querySelector(`[data-key="card-${carrying.id}"]`);
      (moved || document.querySelector(`[data-key="${CSS.escape(carrying.from)}"]`) || cell).focus();
    });
  } else if (event.key === "Escape") {
    event.preventDefault();
    putDown({ cancelled: true });
  } else if (event.key === "Tab") {
    putDown({ cancelled: true });
  }
});

$("sc-unscheduled").addEventListener("keydown", onItemKey);

// --- live updates ------------------------------------------------------------------------------

function showStatus(status) {
  const live = $("sc-live");
  live.dataset.state = status;
  $("sc-live-text").textContent = T.status[status] || status;
}

connectFeed(data.slug, {
  onStatus: showStatus,
  onState(message) {
    if (message.type === "snapshot") {
      if (message.schedule) state.schedule = message.schedule;
      if (Array.isArray(message.proposals)) state.proposals = message.proposals;
      render();
      refreshSoon(); // the clash pairs are not in the snapshot
    } else if (message.type === "tally") {
      refreshSoon(2000); // votes move clashes and voter counts; catch up a little later
    }
  },
});

refresh().catch((error) => say(error.message, "error"));
