// Earlier rounds' published schedules on the phone's schedule tab (contract 5.1): each under
// its round's name, every session with time and room (the ones I starred marked: the phone
// knows only the current round's votes; the full schedule page marks every round's). Loaded by
// phone-schedule.js only once the event has run several rounds, so the first load stays small.
// Round names and titles only ever go in as textContent.
import { el } from "./dom.js";
import { fill } from "./i18n.js";
import { timeFormat } from "./phone-schedule.js";

export function render(box, schedule, votedIds, timeZone, T) {
  if (!box.isConnected) return; // the tab was drawn again meanwhile
  box.parentNode.append(box); // after the current round's picks
  const time = timeFormat(timeZone);
  const rooms = new Map(schedule.rooms.map((room) => [room.id, room.name]));
  const mine = new Set(votedIds.map(String));
  // The current round is the last one started; the ones before it are over.
  for (const round of schedule.rounds.slice(0, -1)) {
    if (!round.published || !round.sessions.length) continue;
    const slots = new Map(round.slots.map((slot) => [slot.id, slot]));
    const heading = el("h3", "round-name", round.name);
    heading.dir = "auto";
    const list = el("ol", "picks");
    const sessions = round.sessions
      .filter((session) => slots.has(session.slot))
      .sort((a, b) => Date.parse(slots.get(a.slot).starts_at) - Date.parse(slots.get(b.slot).starts_at));
    for (const session of sessions) {
      const start = slots.get(session.slot);
      const end = slots.get((session.slots || []).at(-1)) || start;
      const item = el("li", mine.has(String(session.proposal)) ? "pick is-mine" : "pick");
      item.dataset.proposal = session.proposal;
      const stamp = el(
        "time",
        "",
        fill(T.time_range, { start: time.format(new Date(start.starts_at)), end: time.format(new Date(end.ends_at)) }),
      );
      stamp.dateTime = start.starts_at;
      const when = el("p", "pick-time");
      when.append(stamp);
      if (start.label) when.append(el("span", "pick-label", ` · ${start.label}`));
      const title = el("p", "pick-title", session.title);
      title.dir = "auto";
      const room = el("p", "pick-room", rooms.get(session.room) || "");
      room.dir = "auto";
      item.append(when, title, room);
      list.append(item);
    }
    box.append(heading, list);
  }
}
