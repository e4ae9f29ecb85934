// The console during the sessions (contract 5.2 and 6): connected stages with a warning when the
// projector drops, what the stage shows (a view, an announcement), live occupancy against room
// capacity with a one-click move or swap to a bigger room, and publishing the proceedings.
// Attendee text only ever goes in through textContent.
import { $, el, setText } from "./dom.js";
import { fill, pageStrings, plurals } from "./i18n.js";

// Translated by Django with the rest of the console (voting/console.py CONSOLE_STRINGS).
const S = pageStrings("console-data");
const plural = plurals(S);
const TEXT = {
  screens: (n) => (n === 0 ? S.no_stage : plural("stages_connected", n)),
  occupancy: (people, seats) => `${people} / ${seats}`,
  over: S.over_capacity,
  move: (room) => fill(S.move_to, { room }),
  swap: (room, title) => fill(S.swap_with, { room, title }),
  noRoom: S.no_room,
  moved: (title, room) => fill(S.moved, { title, room }),
  stageSet: S.stage_set,
  proceedingsOff: S.proceedings_off,
  proceedingsOn: S.proceedings_on,
  publish: S.publish_proceedings,
  unpublish: S.unpublish_proceedings,
};

export function createLiveConsole({ api, base, toast, state, act }) {
  let seenScreen = false; // warn about a drop only after a stage was there
  let formDirty = false;

  function update(message) {
    if (message.type !== "snapshot") return;
    state.occupancy = message.occupancy || [];
    state.screens = message.screens || 0;
    render();
  }

  function render() {
    const screens = state.screens || 0;
    seenScreen = seenScreen || screens > 0;
    const node = $("screens");
    setText(node, TEXT.screens(screens));
    node.dataset.state = screens ? "ok" : seenScreen ? "dropped" : "none";
    $("screens-dropped").hidden = !(seenScreen && screens === 0);
    if (!formDirty) {
      $("stage-view").value = state.event.stage_view || "auto";
      $("announcement").value = state.event.announcement || "";
    }
    renderOccupancy();
    const published = Boolean(state.event.proceedings_published);
    setText($("proceedings-state"), published ? TEXT.proceedingsOn : TEXT.proceedingsOff);
    setText($("btn-proceedings"), published ? TEXT.unpublish : TEXT.publish);
  }

  function renderOccupancy() {
    const rows = state.occupancy || [];
    $("occupancy-empty").hidden = rows.length > 0;
    $("occupancy").replaceChildren(
      ...rows.map((row) => {
        const item = el("li", `occupancy-row${row.over_capacity ? " is-over" : ""}`);
        item.dataset.proposal = String(row.proposal);
        const title = el("bdi", "occupancy-title", row.title);
        const where = el("span", "occupancy-room", row.room_name);
        const count = el("strong", "occupancy-count", TEXT.occupancy(row.checked_in, row.capacity));
        const meter = el("span", "occupancy-meter");
        meter.style.setProperty("--fill", String(Math.min(1, row.checked_in / Math.max(1, row.capacity))));
        item.append(title, where, count, meter);
        if (row.over_capacity) {
          item.append(el("span", "tag-over", TEXT.over));
          const hint = row.suggestion;
          if (hint) {
            const label = hint.swap_with ? TEXT.swap(hint.room_name, hint.swap_title) : TEXT.move(hint.room_name);
            const button = el("button", "btn btn-primary btn-small", label);
            button.type = "button";
            button.addEventListener("click", () => move(row, hint, button));
            item.append(button);
          } else item.append(el("span", "hint", TEXT.noRoom));
        }
        return item;
      }),
    );
  }

  // One PATCH: onto a free cell it moves, onto an occupied one the two sessions swap.
  async function move(row, hint, button) {
    const done = await act(button, () =>
      api("PATCH", `${base}/schedule/sessions/${row.proposal}`, { room: hint.room }),
    );
    if (done) toast(TEXT.moved(row.title, hint.room_name));
  }

  $("stage-form").addEventListener("input", () => {
    formDirty = true;
  });
  $("stage-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const changes = { stage_view: $("stage-view").value, announcement: $("announcement").value };
    const updated = await act($("stage-apply"), () => api("PATCH", base, changes));
    if (updated) {
      formDirty = false;
      state.event = updated;
      toast(TEXT.stageSet);
      render();
    }
  });
  $("btn-proceedings").addEventListener("click", async (event) => {
    const published = !state.event.proceedings_published;
    const answer = await act(event.currentTarget, () =>
      api("POST", `${base}/proceedings/publish`, { published }),
    );
    if (answer) {
      state.event = { ...state.event, proceedings_published: answer.published };
      render();
    }
  });

  return { update, render };
}
