// The console's rounds (contract 5.1): the list with the current one marked, preparing the next
// round, starting a prepared one behind a confirm dialog that says what happens, the current
// round's name in the phase card and the round picker of the downloads. Round names are
// organizer text: they only ever go in through textContent.
import { $, el, setText } from "./dom.js";
import { fill, pageStrings } from "./i18n.js";

// Translated by Django with the rest of the console (voting/console.py CONSOLE_STRINGS).
const S = pageStrings("console-data");
const TEXT = {
  current: S.round_current,
  ended: S.round_ended,
  prepared: S.round_prepared,
  start: S.round_start,
  confirmStart: (name, current) => [
    fill(S.round_start_title, { name }),
    fill(S.round_start_body, { name, current }),
    fill(S.round_start_ok, { name, current }),
  ],
  started: (name) => fill(S.round_started, { name }),
  created: (name, current) => fill(S.round_created, { name, current }),
};

export function createRoundsConsole({ api, base, toast, state, act, confirmDialog, rounds, onStarted }) {
  state.rounds = rounds || [];
  let knownCurrent = state.event.current_round;

  const currentRound = () => state.rounds.find((r) => r.id === state.event.current_round);

  async function reload() {
    const fresh = await api("GET", `${base}/rounds`);
    state.rounds = fresh;
    render();
  }

  // A snapshot after another organizer (or another tab) started a round: read the list again.
  function update(message) {
    if (message.type !== "snapshot" || !message.event) return;
    if (message.event.current_round !== knownCurrent) {
      knownCurrent = message.event.current_round;
      act(null, reload);
    }
  }

  function statusOf(round) {
    if (round.id === state.event.current_round) return ["is-current", TEXT.current];
    if (round.started_at) return ["is-ended", TEXT.ended];
    return ["is-prepared", TEXT.prepared];
  }

  function render() {
    const current = currentRound();
    setText($("round-now"), current ? current.name : "");
    $("round-list").replaceChildren(
      ...state.rounds.map((round) => {
        const li = el("li", "round-row");
        li.dataset.round = String(round.id);
        const [cls, label] = statusOf(round);
        li.classList.add(cls);
        if (cls === "is-current") li.setAttribute("aria-current", "true");
        const who = el("span");
        who.append(el("bdi", "round-name", round.name), el("span", "hint round-status", ` · ${label}`));
        li.append(who);
        if (cls === "is-prepared") {
          const button = el("button", "btn btn-small btn-primary", TEXT.start);
          button.type = "button";
          button.dataset.startRound = String(round.id);
          li.append(button);
        }
        return li;
      }),
    );
    renderExportPicker();
  }

  // results.csv and ledger.csv of the chosen round (the current one without `?round=`).
  function renderExportPicker() {
    const select = $("export-round");
    const started = state.rounds.filter((r) => r.started_at);
    const chosen = select.value && started.some((r) => String(r.id) === select.value) ? select.value : null;
    const wanted = started.map((r) => `${r.id}:${r.name}`).join("\n");
    if (select.dataset.rounds !== wanted) {
      select.dataset.rounds = wanted;
      select.replaceChildren(
        ...started.map((round) => {
          const option = el("option", "", round.name);
          option.value = String(round.id);
          return option;
        }),
      );
      select.value = (select.dataset.touched && chosen) || String(state.event.current_round);
    }
    select.closest(".export-round").hidden = started.length < 2;
    const round = Number(select.value);
    for (const link of document.querySelectorAll("[data-round-link]")) {
      const url = new URL(link.getAttribute("href"), location.href);
      if (round && round !== state.event.current_round) url.searchParams.set("round", String(round));
      else url.searchParams.delete("round");
      link.setAttribute("href", url.pathname + url.search);
    }
  }

  $("export-round").addEventListener("change", (ev) => {
    ev.currentTarget.dataset.touched = "1";
    renderExportPicker();
  });

  $("round-prepare").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("round-new-name");
    const created = await act(ev.submitter, () => api("POST", `${base}/rounds`, { name: input.value.trim() }));
    if (created) {
      input.value = "";
      state.rounds = [...state.rounds.filter((r) => r.id !== created.id), created];
      render();
      toast(TEXT.created(created.name, currentRound()?.name ?? ""));
    }
  });

  $("round-list").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-start-round]");
    if (!button) return;
    const round = state.rounds.find((r) => r.id === Number(button.dataset.startRound));
    if (!round || !(await confirmDialog(TEXT.confirmStart(round.name, currentRound()?.name ?? "")))) return;
    const started = await act(button, () => api("POST", `${base}/rounds/${round.id}/start`));
    if (!started) {
      act(null, reload); // 409: someone else started it first; show the list as it is now
      return;
    }
    knownCurrent = started.id;
    state.event = { ...state.event, current_round: started.id };
    await act(null, async () => {
      state.event = await api("GET", base);
      state.rounds = await api("GET", `${base}/rounds`);
    });
    onStarted();
    toast(TEXT.started(started.name));
  });

  return { render, update, reload };
}
