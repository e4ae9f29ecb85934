// The proposal list: one card per proposal, each with its dot control. While counts are hidden
// the order is a stable per-attendee shuffle; once they show, it is the live ranking (ties share
// a rank number). A card never moves under the user's finger: from the first touch, scroll or
// key on, the order on screen holds and a newer ranking is offered ("tap to update"), not
// imposed. Counts are only ever rendered when the server sent them.

import { $, chars, el, fillNodes } from "./dom.js";
import { fill } from "./i18n.js";
import { byRank, isTied, rankNumbers } from "./rank.js";

const LONG_DESCRIPTION = 180; // characters: longer descriptions fold to three lines
const SEARCH_FROM = 8; // proposals: below that a search box is only in the way

export function createList(app) {
  const { T, state, queue, plural, countsVisible, votingOpen, remaining, setDots, scheduleRender } = app;
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const shuffleKeys = new Map();
  const cards = new Map();
  let held = null; // ids in the order on screen when the user started touching the list

  // Hold the order from the first interaction on (not before: a phone left on the table
  // follows the live ranking). Only a ranked list moves by itself.
  function hold() {
    if (held === null && countsVisible() && state.loaded) held = [...$("list").children].map((n) => n.dataset.id);
  }
  for (const type of ["touchstart", "pointerdown", "wheel", "keydown"]) {
    document.addEventListener(type, hold, { passive: true, capture: true });
  }
  window.addEventListener("scroll", hold, { passive: true });
  $("rerank").addEventListener("click", () => {
    held = null;
    renderList();
    $("list").firstElementChild?.focus?.();
  });

  // The live order, kept in the held order while the user interacts: held cards stay where
  // they were, new ones come after them.
  function heldOrder(live) {
    if (held === null) return live;
    const position = new Map(held.map((id, index) => [id, index]));
    const known = live.filter((p) => position.has(String(p.id)));
    known.sort((a, b) => position.get(String(a.id)) - position.get(String(b.id)));
    return [...known, ...live.filter((p) => !position.has(String(p.id)))];
  }

  // While counts are hidden the list is the same stable shuffle the API gives (`?order=random`):
  // sha256("<attendee id>:<proposal id>") ascending. Without WebCrypto (plain HTTP on a LAN
  // address) a simpler stable hash stands in.
  async function ensureShuffleKeys(ids) {
    const missing = ids.filter((id) => !shuffleKeys.has(id));
    if (!missing.length) return false;
    const seed = app.attendee || "public";
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
    if (countsVisible()) return list.sort(byRank);
    const key = (p) => shuffleKeys.get(String(p.id)) || "~";
    return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id - b.id));
  }

  function matches(proposal, needle) {
    if (!needle) return true;
    return [proposal.title, proposal.description, proposal.host_name].some((text) =>
      (text || "").toLocaleLowerCase().includes(needle),
    );
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
    const all = ordered();
    // Ranks of the whole list, not the search; tied proposals share one. No dots is no rank.
    const numbers = rankNumbers(all);
    const rank = new Map(all.map((p, i) => [p, (p.dots || 0) > 0 ? numbers[i] : 0]));
    const tied = new Set(all.filter((p, i) => (p.dots || 0) > 0 && isTied(numbers, i)));
    if (!visible) held = null;
    const live = all.filter((p) => matches(p, needle));
    const shown = heldOrder(live);
    const rerank = $("rerank");
    rerank.hidden = !shown.some((p, i) => p !== live[i]);
    if (!rerank.hidden) {
      // Just under the sticky header, over the list, never in the flow (which would move cards).
      rerank.style.top = `${Math.round(document.querySelector(".topbar").getBoundingClientRect().bottom) + 8}px`;
    }
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
    shown.forEach((proposal) => {
      const id = String(proposal.id);
      let card = cards.get(id);
      if (!card) {
        card = createCard(id);
        cards.set(id, card);
      }
      updateCard(card, proposal, visible ? rank.get(proposal) : 0, tied.has(proposal));
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
    if (focused && list.contains(focused) && document.activeElement !== focused) {
      focused.focus({ preventScroll: true });
    }
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
    return { id, root, rank, rankLabel, title, host, description, more, meta, vote, sync, kind: "" };
  }

  function updateCard(card, proposal, rank, tied) {
    // Tallies arrive a few times a second: touch the DOM only for cards whose inputs changed.
    const status = queue.stateOf(card.id);
    const signature = JSON.stringify([
      proposal.title,
      proposal.host_name,
      proposal.description,
      countsVisible() ? [proposal.dots, proposal.voters] : null,
      rank,
      tied,
      state.me && state.me.proposals,
      state.firstIds && state.firstIds.has(card.id),
      state.event.max_dots_per_proposal,
      queue.dots(card.id),
      votingOpen() && !state.signedOut,
      Math.max(0, remaining()),
      status,
    ]);
    if (card.signature === signature) return;
    card.signature = signature;
    card.root.classList.toggle("is-ranked", rank > 0);
    card.rank.textContent = rank ? `${tied ? "=" : ""}${rank}` : "";
    card.root.classList.toggle("is-tied", Boolean(tied));
    card.rank.hidden = !rank;
    card.rankLabel.textContent = rank ? `${fill(tied ? T.rank_tied : T.rank, { n: rank })}: ` : "";
    if (card.title.textContent !== proposal.title) card.title.textContent = proposal.title;
    if (proposal.host_name) card.host.replaceChildren(...fillNodes(T.by_host, { name: proposal.host_name }));
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
      const voters = ` · ${plural("voters", proposal.voters)}`;
      counts.append(el("strong", "", plural("dots", proposal.dots)), voters);
      tags.push(counts);
    }
    card.meta.replaceChildren(...tags);

    updateVote(card, proposal);

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
      const label = fill(dots > 0 ? T.voted_for : T.vote_for, { title: proposal.title });
      card.toggle.setAttribute("aria-label", label);
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

  return { render: renderList };
}
