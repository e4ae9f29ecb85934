// During the sessions (contract 5.2), on the phone: "next for you" (a voted or starred session,
// with its room, directions and time), a star on any session, check in with one tap (the law
// of two feet: checking in elsewhere moves you), and the notes of the session you are in.
// Attendee text only ever goes in through textContent.

import { ApiError } from "./api.js";
import { $, el, timeText } from "./dom.js";
import { fill } from "./i18n.js";

export function createLive(app) {
  if (!document.querySelector('link[href$="phone-live.css"]')) {
    const sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = new URL("./phone-live.css", import.meta.url).href;
    document.head.append(sheet);
  }
  const { T, state, api, toast, scheduleRender, serverNow, earlyMs } = app;
  const live = { stars: new Set(), checkedIn: null, notes: null, notesFor: null, conflict: "" };
  let signature = "";

  async function load() {
    try {
      const [stars, mine] = await Promise.all([api.get("/me/stars"), api.get("/me/checkin")]);
      live.stars = new Set(stars.sessions.map(String));
      live.checkedIn = mine.session ? String(mine.session) : null;
      scheduleRender();
    } catch {
      /* offline: the buttons say so when tapped */
    }
  }

  function published() {
    return Boolean(state.schedule && state.schedule.published && state.schedule.sessions.length);
  }

  function slotOf(session) {
    return state.schedule.slots.find((slot) => slot.id === session.slot);
  }

  function roomOf(session) {
    return state.schedule.rooms.find((room) => room.id === session.room) || { name: "", directions: "" };
  }

  function open(slot, now) {
    return Date.parse(slot.starts_at) - earlyMs <= now && now < Date.parse(slot.ends_at);
  }

  function sessions() {
    return [...state.schedule.sessions].sort(
      (a, b) => Date.parse(slotOf(a).starts_at) - Date.parse(slotOf(b).starts_at) || a.room - b.room,
    );
  }

  // The session I am in now, else my next pick (voted or starred) that has not ended.
  function nextForMe(picks, now) {
    const here = sessions().find((s) => String(s.proposal) === live.checkedIn && now < Date.parse(slotOf(s).ends_at));
    const mine = sessions().filter((s) => picks.has(String(s.proposal)));
    return here || mine.find((s) => now < Date.parse(slotOf(s).ends_at)) || null;
  }

  function whenText(slot, now) {
    const start = Date.parse(slot.starts_at);
    const range = fill(T.time_range, { start: timeText(slot.starts_at), end: timeText(slot.ends_at) });
    if (start <= now) return `${range} · ${T.running_now}`;
    const minutes = Math.round((start - now) / 60000);
    return minutes < 90 ? `${range} · ${fill(T.starts_in, { n: minutes })}` : range;
  }

  function nextCard(session, now) {
    const slot = slotOf(session);
    const room = roomOf(session);
    const card = el("section", "card next-card");
    card.setAttribute("aria-labelledby", "next-heading");
    const heading = el("h3", "next-heading", String(session.proposal) === live.checkedIn ? T.you_are_in : T.next_for_you);
    heading.id = "next-heading";
    const title = el("p", "next-title", session.title);
    title.dir = "auto";
    const where = el("p", "next-room");
    where.append(el("bdi", "", room.name));
    card.append(heading, title, where);
    if (room.directions) {
      const directions = el("p", "next-directions", room.directions);
      directions.dir = "auto";
      card.append(directions);
    }
    card.append(el("p", "next-time", whenText(slot, now)));
    if (open(slot, now)) card.append(checkinButton(session));
    return card;
  }

  function starButton(session) {
    const starred = live.stars.has(String(session.proposal));
    const button = el("button", "btn btn-small btn-ghost star", starred ? `★ ${T.starred}` : `☆ ${T.star}`);
    button.type = "button";
    button.setAttribute("aria-pressed", String(starred));
    button.setAttribute("aria-label", fill(starred ? T.unstar_for : T.star_for, { title: session.title }));
    button.addEventListener("click", () => toggleStar(String(session.proposal)));
    return button;
  }

  function checkinButton(session) {
    const here = live.checkedIn === String(session.proposal);
    const button = el("button", `btn btn-small ${here ? "btn-secondary" : "btn-primary"} checkin`, here ? T.checked_in : T.check_in);
    button.type = "button";
    button.setAttribute("aria-pressed", String(here));
    button.setAttribute("aria-label", fill(here ? T.leave_for : T.check_in_for, { title: session.title }));
    button.addEventListener("click", () => (here ? checkOut(session) : checkIn(session)));
    return button;
  }

  function sessionRow(session, now) {
    const slot = slotOf(session);
    const room = roomOf(session);
    const item = el("li", "card session-row");
    item.dataset.id = String(session.proposal);
    if (live.checkedIn === String(session.proposal)) item.classList.add("is-here");
    const title = el("p", "session-row-title", session.title);
    title.dir = "auto";
    const proposal = state.proposals.get(String(session.proposal));
    const meta = el("p", "session-row-meta");
    meta.append(el("bdi", "", room.name));
    if (proposal && proposal.host_name) meta.append(" · ", el("bdi", "", proposal.host_name));
    const count = (state.checkedInCounts || {})[String(session.proposal)];
    if (open(slot, now) && count) meta.append(` · ${fill(T.here_count, { n: count })}`);
    const actions = el("div", "session-row-actions");
    actions.append(starButton(session));
    if (open(slot, now)) actions.append(checkinButton(session));
    item.append(title, meta, actions);
    return item;
  }

  function allSessions(now) {
    const box = el("section", "all-sessions");
    box.append(el("h3", "", T.all_sessions));
    let currentSlot = null;
    let list = null;
    for (const session of sessions()) {
      const slot = slotOf(session);
      if (Date.parse(slot.ends_at) <= now) continue; // over: nothing to star or join
      if (slot !== currentSlot) {
        currentSlot = slot;
        const head = el("p", "slot-time", whenText(slot, now));
        list = el("ul", "session-rows");
        box.append(head, list);
      }
      list.append(sessionRow(session, now));
    }
    return box;
  }

  // Notes: for the session I am checked in to (or host), saved as a new revision each time.
  function notesBox(session) {
    const box = el("section", "card notes");
    box.setAttribute("aria-labelledby", "notes-heading");
    const heading = el("h3", "", fill(T.notes_for, { title: session.title }));
    heading.id = "notes-heading";
    const label = el("label", "visually-hidden", T.notes);
    label.htmlFor = "notes-text";
    const text = el("textarea", "notes-text");
    text.id = "notes-text";
    text.rows = 8;
    text.maxLength = app.notesMax;
    text.placeholder = T.notes_placeholder;
    const ready = live.notesFor === String(session.proposal) && live.notes;
    text.value = ready ? live.notes.text : "";
    text.disabled = !ready;
    const status = el("p", "hint notes-status", ready ? notesStatus() : T.loading_notes);
    status.setAttribute("role", "status");
    const save = el("button", "btn btn-primary", T.save_notes);
    save.type = "button";
    save.disabled = !ready;
    save.addEventListener("click", () => saveNotes(session, text.value, save, status));
    box.append(heading, label, text, el("p", "hint", T.notes_hint), status, save);
    if (live.conflict) {
      const mine = el("textarea", "notes-text notes-mine");
      mine.readOnly = true;
      mine.value = live.conflict;
      mine.setAttribute("aria-label", T.notes_yours);
      box.append(el("p", "alert alert-warn", T.notes_conflict), mine);
    }
    if (!ready && live.notesFor !== String(session.proposal)) loadNotes(session);
    return box;
  }

  function notesStatus() {
    if (!live.notes.revision) return T.notes_empty;
    return fill(T.notes_saved, { n: live.notes.revision, time: timeText(live.notes.updated_at) });
  }

  async function loadNotes(session) {
    live.notesFor = String(session.proposal);
    live.notes = null;
    try {
      live.notes = await api.get(`/schedule/sessions/${session.proposal}/notes`);
    } catch {
      live.notesFor = null;
      return;
    }
    signature = "";
    scheduleRender();
  }

  async function saveNotes(session, text, button, status) {
    button.disabled = true;
    try {
      live.notes = await api.put(`/schedule/sessions/${session.proposal}/notes`, { text }, {
        "If-Match": `"${live.notes.revision}"`,
      });
      live.conflict = "";
      toast(T.notes_saved_toast);
    } catch (error) {
      if (error instanceof ApiError && error.code === "edit_conflict") {
        live.conflict = text; // kept for the person to merge by hand
        live.notesFor = null;
      } else {
        status.textContent = error instanceof ApiError ? error.detail || T.error : T.network_error;
        button.disabled = false;
        return;
      }
    }
    signature = "";
    scheduleRender();
  }

  async function toggleStar(id) {
    const wanted = new Set(live.stars);
    if (wanted.has(id)) wanted.delete(id);
    else wanted.add(id);
    try {
      const answer = await api.put("/me/stars", { sessions: [...wanted].map(Number) });
      live.stars = new Set(answer.sessions.map(String));
    } catch (error) {
      toast(error instanceof ApiError ? error.detail || T.error : T.network_error);
    }
    signature = "";
    scheduleRender();
  }

  async function checkIn(session) {
    try {
      const answer = await api.post(`/schedule/sessions/${session.proposal}/checkin`);
      live.checkedIn = answer.session ? String(answer.session) : null;
      toast(fill(T.checked_in_toast, { title: session.title }));
    } catch (error) {
      toast(error instanceof ApiError ? error.detail || T.error : T.network_error);
    }
    signature = "";
    scheduleRender();
  }

  async function checkOut(session) {
    try {
      const answer = await api.del(`/schedule/sessions/${session.proposal}/checkin`);
      live.checkedIn = answer.session ? String(answer.session) : null;
    } catch (error) {
      toast(error instanceof ApiError ? error.detail || T.error : T.network_error);
    }
    signature = "";
    scheduleRender();
  }

  function render(picks) {
    const root = $("live");
    const banner = $("next-banner");
    if (!published()) {
      root.replaceChildren();
      banner.hidden = true;
      signature = "";
      return;
    }
    const now = serverNow();
    const minute = Math.floor(now / 30000); // re-render as time passes, twice a minute
    const key = JSON.stringify([
      state.schedule,
      [...picks],
      [...live.stars],
      live.checkedIn,
      live.notesFor,
      live.notes,
      live.conflict,
      state.checkedInCounts,
      minute,
    ]);
    if (key === signature) return;
    const focused = document.activeElement && document.activeElement.id === "notes-text";
    if (focused) return; // never rebuild under someone typing notes
    signature = key;
    const next = nextForMe(picks, now);
    const parts = [];
    if (next) parts.push(nextCard(next, now));
    const inSession = sessions().find(
      (s) => String(s.proposal) === live.checkedIn && now < Date.parse(slotOf(s).ends_at) + 3600000,
    );
    if (inSession) parts.push(notesBox(inSession));
    parts.push(allSessions(now));
    root.replaceChildren(...parts);
    banner.hidden = !next;
    if (next) {
      const room = roomOf(next);
      banner.replaceChildren(
        el("span", "next-banner-label", String(next.proposal) === live.checkedIn ? T.you_are_in : T.next_for_you),
        " ",
        el("bdi", "next-banner-title", next.title),
        ` · ${room.name} · ${timeText(slotOf(next).starts_at)}`,
      );
    }
  }

  return { load, render, stars: () => live.stars };
}
