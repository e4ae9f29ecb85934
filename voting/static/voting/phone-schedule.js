// "My schedule" on the phone: the published sessions the attendee put dots on, in time order,
// with room and time, and a warning where two of them run in the same slot.

import { el, fillNodes } from "./dom.js";
import { fill } from "./i18n.js";

/** Picks in time order, the slots that hold more than one pick, and picks not scheduled. */
export function myPicks(schedule, votedIds, titles) {
  const rooms = new Map(schedule.rooms.map((room) => [room.id, room]));
  const slots = new Map(schedule.slots.map((slot) => [slot.id, slot]));
  const voted = new Set(votedIds.map(String));
  const picks = schedule.sessions
    .filter((session) => voted.has(String(session.proposal)) && slots.has(session.slot))
    .map((session) => ({
      proposal: session.proposal,
      title: session.title,
      room: rooms.get(session.room) ? rooms.get(session.room).name : "",
      slot: slots.get(session.slot),
      // A long session ends with its last slot.
      endsAt: (slots.get((session.slots || []).at(-1)) || slots.get(session.slot)).ends_at,
    }))
    .sort(
      (a, b) =>
        Date.parse(a.slot.starts_at) - Date.parse(b.slot.starts_at) || a.room.localeCompare(b.room),
    );
  const perSlot = new Map();
  for (const pick of picks) perSlot.set(pick.slot.id, (perSlot.get(pick.slot.id) || 0) + 1);
  const clashing = new Set([...perSlot].filter(([, n]) => n > 1).map(([id]) => id));
  const scheduled = new Set(schedule.sessions.map((session) => String(session.proposal)));
  const unscheduled = [...voted]
    .filter((id) => !scheduled.has(id) && titles.has(id))
    .map((id) => titles.get(id));
  return { picks, clashing, unscheduled };
}

function format(timeZone, options) {
  const lang = document.documentElement.lang || undefined;
  try {
    return new Intl.DateTimeFormat(lang, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(lang, options); // unknown zone name: the phone's own
  }
}
export const timeFormat = (timeZone) => format(timeZone, { hour: "2-digit", minute: "2-digit" });

/** Render into `root` (replacing its content). Attendee text only ever goes in as textContent. */
export function renderMySchedule(root, { schedule, votedIds, titles, timeZone, T }) {
  root.replaceChildren();
  // Earlier rounds (contract 5.1): a module of their own.
  if (schedule?.rounds?.length > 1) {
    const more = el("div");
    root.append(more);
    import("./phone-rounds.js").then((m) => m.render(more, schedule, votedIds, timeZone, T)).catch(() => {});
  }
  if (!schedule || !schedule.published) {
    root.append(el("p", "empty", T.schedule_wait));
    return;
  }
  const { picks, clashing, unscheduled } = myPicks(schedule, votedIds, titles);
  if (!picks.length) {
    root.append(el("p", "empty", T.no_picks));
  }
  const time = timeFormat(timeZone);
  const day = format(timeZone, { weekday: "short" });
  let clashes = 0;
  for (const id of clashing) clashes += picks.filter((pick) => pick.slot.id === id).length;
  if (clashes) {
    const warning = el("p", "alert alert-warn", fill(T.clash, { n: clashes }));
    warning.setAttribute("role", "note");
    root.append(warning);
  }
  const list = el("ol", "picks");
  const days = new Set(picks.map((pick) => day.format(new Date(pick.slot.starts_at))));
  for (const pick of picks) {
    const start = new Date(pick.slot.starts_at);
    const end = new Date(pick.endsAt);
    const item = el("li", "pick");
    if (clashing.has(pick.slot.id)) item.classList.add("pick-clash");
    const range = fill(T.time_range, { start: time.format(start), end: time.format(end) });
    const stamp = el("time", "", days.size > 1 ? `${day.format(start)} ${range}` : range);
    stamp.dateTime = pick.slot.starts_at;
    const when = el("p", "pick-time");
    when.append(stamp);
    if (pick.slot.label) when.append(el("span", "pick-label", ` · ${pick.slot.label}`));
    if (clashing.has(pick.slot.id)) when.append(el("span", "tag tag-warn", T.clash_tag));
    const title = el("p", "pick-title", pick.title);
    title.dir = "auto";
    const room = el("p", "pick-room", pick.room);
    room.dir = "auto";
    item.append(when, title, room);
    list.append(item);
  }
  if (picks.length) root.append(list);
  if (unscheduled.length) {
    const titles = el("span");
    unscheduled.forEach((title, i) => titles.append(i ? ", " : "", el("bdi", "", title)));
    const note = el("p", "note");
    note.append(...fillNodes(T.unscheduled, { titles }));
    root.append(note);
  }
}
