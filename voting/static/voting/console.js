// The organizer console: phases, live counts, moderation, merge, badges, co-organizers.
// State arrives from the live feed (organizer sockets always get counts); every action is one
// API call. Attendee text only ever goes in through textContent.
import { $, el, reconcile, setText } from "./dom.js";
import { fill, pageStrings, plurals } from "./i18n.js";
import { connectFeed } from "./feed.js";
import { api } from "./api.js";
import { createLiveConsole } from "./console-live.js";
import { createRoundsConsole } from "./console-rounds.js";
import { byRank, clock, countsVisible, isTied, rankNumbers, votingOpen, votingOver } from "./rank.js";

// Every sentence comes translated from Django (voting/console.py CONSOLE_STRINGS).
const S = pageStrings("console-data");
const plural = plurals(S);
const TEXT = {
  status: {
    connecting: S.connecting,
    live: S.live,
    reconnecting: S.reconnecting,
    gone: S.gone,
    forbidden: S.forbidden,
  },
  phase: {
    propose: S.phase_propose,
    waiting: S.phase_waiting,
    vote: S.phase_vote,
    voteUntil: (clock) => fill(S.phase_vote_until, { clock }),
    closed: S.phase_closed,
    results: S.phase_results,
    schedule: S.phase_schedule,
  },
  next: {
    openVoting: S.next_open_voting,
    closeVoting: S.next_close_voting,
    reveal: S.next_reveal,
    schedule: S.next_schedule,
    scheduleLink: S.next_schedule_link,
    proceedings: S.next_proceedings,
    proceedingsLink: S.next_proceedings_link,
    done: S.next_done,
    doneLink: S.next_done_link,
  },
  noDeadline: S.no_deadline,
  deadline: (time, clock) => fill(S.deadline, { time, clock }),
  deadlinePassed: (time) => fill(S.deadline_passed, { time }),
  revealLive: S.reveal_live,
  revealDone: S.reveal_done,
  revealHidden: S.reveal_hidden,
  statHint: (pct) => fill(S.stat_hint, { pct }),
  statEmpty: S.stat_empty,
  empty: {
    pending: S.empty_pending,
    published: S.empty_published,
    hidden: S.empty_hidden,
    merged: S.empty_merged,
  },
  actions: {
    approve: S.approve,
    publish: S.show_again,
    hide: S.hide,
    edit: S.edit,
    merge: S.merge,
  },
  byHost: (host) => fill(S.by_host, { host }),
  organizerAdded: S.organizer_added,
  mergedInto: (title) => fill(S.merged_into, { title }),
  statusNames: { pending: S.status_pending, published: S.status_published, hidden: S.status_hidden, merged: S.status_merged },
  confirm: {
    closeVoting: [S.close_voting_title, S.close_voting_body, S.close_voting],
    reveal: [S.reveal_title, S.reveal_body, S.reveal],
    hide: (title, dots, voters) => [
      fill(S.hide_title, { title }),
      plural("hide_body", dots, { people: plural("people", voters) }),
      S.hide_and_refund,
    ],
    revoke: (code) => [fill(S.revoke_title, { code }), S.revoke_body, S.revoke],
    reissue: (code) => [fill(S.reissue_title, { code }), S.reissue_body, S.reissue],
    removeSelf: [S.remove_self_title, S.remove_self_body, S.remove_me],
  },
  mergePreview: (p, target) => [
    plural("merge_dots", p.dots_moved, { title: target }),
    plural("merge_voters", p.voters_moved, { shared: p.voters_shared }),
    p.dots_refunded ? plural("merge_refunded", p.dots_refunded) : S.merge_no_refund,
  ],
  mergeNoTarget: S.merge_no_target,
  loadingPreview: S.counting,
  merged: (a, b) => fill(S.merged_toast, { a, b }),
  saved: S.settings_saved,
  proposalAdded: S.proposal_added,
  badgesGenerated: (n) => plural("badges_generated", n),
  badgeStats: (s) =>
    plural("badge_stats", s.total, { total: s.total, unused: s.unused, redeemed: s.redeemed, revoked: s.revoked }),
  badgeModeOpen: S.badge_mode_open,
  badgeModeBadge: S.badge_mode_badge,
  badgeNotFound: S.badge_not_found,
  badgeAttendee: (id) => fill(S.badge_attendee, { id }),
  badgeRevoked: (code) => fill(S.badge_revoked, { code }),
  you: S.you,
  notStaff: S.not_staff,
  organizerAdd: (name) => fill(S.organizer_add, { name }),
  organizerRemoved: (name) => fill(S.organizer_removed, { name }),
  remove: S.remove,
};

const TOAST_MS = 4500;

const page = JSON.parse(document.getElementById("console-data").textContent);
const slug = page.slug;
const base = `/api/events/${encodeURIComponent(slug)}`;

const state = {
  event: page.event,
  proposals: new Map(),
  participation: null,
  offset: 0,
  filter: "published",
  settingsDirty: false,
  badge: null, // the badge shown at the help desk
};

// --- small helpers -------------------------------------------------------------------------

const serverNow = () => Date.now() + state.offset;
// Times in the event's own zone (contract 5.1), whatever this laptop's.
const timeFormat = {
  format: (date) =>
    new Intl.DateTimeFormat(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit", timeZone: state.event?.time_zone }).format(
      date,
    ),
};

const votingOpenNow = () => votingOpen(state.event, serverNow());


let toastTimer = null;
function toast(message, { error = false } = {}) {
  const node = $("toast");
  node.textContent = message;
  node.classList.toggle("is-error", error);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), TOAST_MS);
}

// Runs an API action with its button disabled; shows the server's sentence when it fails.
async function act(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (problem) {
    toast(problem.message, { error: true });
    return undefined;
  } finally {
    if (button) button.disabled = false;
    renderPhase();
  }
}

function confirmDialog([title, text, ok]) {
  const dialog = $("confirm-dialog");
  setText($("confirm-title"), title);
  setText($("confirm-text"), text);
  setText($("confirm-ok"), ok);
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

async function patchEvent(changes, button) {
  const updated = await act(button, () => api("PATCH", base, changes));
  if (updated) {
    state.event = updated;
    render();
  }
  return updated;
}

// --- live feed -------------------------------------------------------------------------------

function onState(message) {
  state.offset = Date.parse(message.server_time) - Date.now();
  state.participation = message.participation;
  if (message.type === "snapshot") {
    state.event = message.event;
    state.proposals = new Map(message.proposals.map((p) => [p.id, p]));
    live.update(message);
    rounds.update(message);
  } else if (message.counts) {
    for (const [id, counts] of Object.entries(message.counts)) {
      const proposal = state.proposals.get(Number(id));
      if (proposal) Object.assign(proposal, counts);
    }
  }
  render();
}

function onStatus(status) {
  const node = $("connection");
  node.dataset.state = status;
  setText($("connection-text"), TEXT.status[status] || status);
}

function render() {
  renderPhase();
  renderParticipation();
  renderSettings();
  renderProposals();
  renderBadgeHint();
  live.render();
  rounds.render();
}

// --- phase ----------------------------------------------------------------------------------

function currentStep() {
  const e = state.event;
  const cast = state.participation ? state.participation.dots_cast : 0;
  if (e.schedule_published) return "schedule";
  if (votingOpenNow()) return "vote";
  if (votingOver(e, serverNow(), cast)) return countsVisible(e) ? "results" : "closed";
  return "propose";
}

function renderPhase() {
  const e = state.event;
  const open = votingOpenNow();
  const step = currentStep();
  const order = ["propose", "vote", "closed", "results", "schedule"];
  for (const li of $("steps").children) {
    const index = order.indexOf(li.dataset.step);
    li.classList.toggle("is-current", li.dataset.step === step);
    li.classList.toggle("is-done", index < order.indexOf(step));
  }
  const deadline = e.voting_closes_at ? Date.parse(e.voting_closes_at) : null;
  let now;
  if (step === "vote") now = deadline ? TEXT.phase.voteUntil(clock(deadline - serverNow())) : TEXT.phase.vote;
  else if (step === "propose") now = e.accepting_proposals ? TEXT.phase.propose : TEXT.phase.waiting;
  else now = TEXT.phase[step];
  setText($("phase-now"), now);

  $("btn-open-proposals").disabled = e.accepting_proposals;
  $("btn-close-proposals").disabled = !e.accepting_proposals;
  $("btn-open-voting").disabled = open;
  $("btn-close-voting").disabled = !open;
  $("btn-clear-deadline").disabled = !deadline;
  if (!deadline) setText($("deadline-now"), TEXT.noDeadline);
  else if (deadline > serverNow()) {
    setText($("deadline-now"), TEXT.deadline(timeFormat.format(new Date(deadline)), clock(deadline - serverNow())));
  } else setText($("deadline-now"), TEXT.deadlinePassed(timeFormat.format(new Date(deadline))));

  renderNextStep(step);

  const revealable = e.tally_visibility !== "live" && !e.results_revealed;
  $("btn-reveal").disabled = !revealable;
  setText(
    $("reveal-hint"),
    e.tally_visibility === "live" ? TEXT.revealLive : e.results_revealed ? TEXT.revealDone : TEXT.revealHidden,
  );
}

// The phase card leads to the next step: one primary action, and where to go after a reveal.
function renderNextStep(step) {
  const e = state.event;
  let text;
  let primary = null;
  let link = null;
  if (step === "propose") [text, primary] = [TEXT.next.openVoting, "btn-open-voting"];
  else if (step === "vote") text = TEXT.next.closeVoting;
  else if (step === "closed") [text, primary] = [TEXT.next.reveal, "btn-reveal"];
  else if (step === "results") [text, link] = [TEXT.next.schedule, [TEXT.next.scheduleLink, `/e/${slug}/organize/schedule/`]];
  else if (!e.proceedings_published) [text, link] = [TEXT.next.proceedings, [TEXT.next.proceedingsLink, "#sessions-live-title"]];
  else [text, link] = [TEXT.next.done, [TEXT.next.doneLink, `/e/${slug}/proceedings/`]];
  for (const id of ["btn-open-voting", "btn-reveal"]) $(id).classList.toggle("btn-primary", id === primary);
  setText($("next-step-text"), text);
  const anchor = $("next-step-link");
  anchor.hidden = !link;
  if (link) {
    setText(anchor, link[0]);
    anchor.href = link[1];
  }
}

$("btn-open-proposals").addEventListener("click", (ev) =>
  patchEvent({ accepting_proposals: true }, ev.currentTarget),
);
$("btn-close-proposals").addEventListener("click", (ev) =>
  patchEvent({ accepting_proposals: false }, ev.currentTarget),
);
$("btn-open-voting").addEventListener("click", (ev) => patchEvent({ voting_open: true }, ev.currentTarget));
$("btn-close-voting").addEventListener("click", async (ev) => {
  const button = ev.currentTarget;
  if (await confirmDialog(TEXT.confirm.closeVoting)) patchEvent({ voting_open: false }, button);
});
$("btn-reveal").addEventListener("click", async (ev) => {
  const button = ev.currentTarget;
  if (await confirmDialog(TEXT.confirm.reveal)) patchEvent({ results_revealed: true }, button);
});
for (const button of document.querySelectorAll("[data-deadline-minutes]")) {
  button.addEventListener("click", () => {
    const at = new Date(serverNow() + Number(button.dataset.deadlineMinutes) * 60000);
    patchEvent({ voting_closes_at: at.toISOString() }, button);
  });
}
$("btn-clear-deadline").addEventListener("click", (ev) => patchEvent({ voting_closes_at: null }, ev.currentTarget));
$("deadline-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const value = $("deadline-at").value; // wall-clock time, which the server reads in the event's zone
  if (value) patchEvent({ voting_closes_at: value }, ev.submitter);
});

// --- participation --------------------------------------------------------------------------

function renderParticipation() {
  const p = state.participation;
  if (!p) return;
  setText($("stat-attendees"), String(p.attendees));
  setText($("stat-voters"), String(p.voters));
  const dots = $("stat-dots");
  const dotsText = `${p.dots_cast} / ${p.dots_total}`;
  if (dots.dataset.text !== dotsText) {
    dots.dataset.text = dotsText;
    dots.replaceChildren(document.createTextNode(String(p.dots_cast)), el("small", "", ` / ${p.dots_total}`));
  }
  $("stat-dots-fill").style.setProperty("width", `${p.dots_total ? (p.dots_cast / p.dots_total) * 100 : 0}%`);
  setText(
    $("stat-hint"),
    p.attendees ? TEXT.statHint(Math.round((p.voters / p.attendees) * 100)) : TEXT.statEmpty,
  );
}

// --- settings -------------------------------------------------------------------------------

const settingsForm = $("settings-form");
const SETTINGS = ["name", "identity_mode", "votes_per_attendee", "max_dots_per_proposal", "tally_visibility", "moderation"];
const NUMERIC = new Set(["votes_per_attendee", "max_dots_per_proposal"]);

function rulesLocked() {
  return Boolean(state.participation && state.participation.dots_cast > 0);
}

function renderSettings() {
  const locked = rulesLocked();
  for (const input of settingsForm.querySelectorAll("[data-rule]")) input.disabled = locked;
  $("rules-locked").hidden = !locked;
  setText($("event-name"), state.event.name);
  if (state.settingsDirty) return;
  for (const name of SETTINGS) {
    const field = settingsForm.elements.namedItem(name);
    if (document.activeElement !== field) field.value = String(state.event[name]);
  }
}

settingsForm.addEventListener("input", () => (state.settingsDirty = true));
settingsForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = $("settings-error");
  error.hidden = true;
  const changes = {};
  for (const name of SETTINGS) {
    const field = settingsForm.elements.namedItem(name);
    if (field.disabled) continue;
    const value = NUMERIC.has(name) ? Number(field.value) : field.value.trim();
    if (value !== state.event[name]) changes[name] = value;
  }
  const button = ev.submitter;
  button.disabled = true;
  try {
    if (Object.keys(changes).length) state.event = await api("PATCH", base, changes);
    state.settingsDirty = false;
    toast(TEXT.saved);
    render();
  } catch (problem) {
    error.textContent = problem.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});

// --- proposals ------------------------------------------------------------------------------

const rowsById = new Map();
const tbody = $("proposal-rows");

for (const tab of document.querySelectorAll("#proposal-tabs .ptab")) {
  tab.addEventListener("click", () => {
    state.filter = tab.dataset.filter;
    for (const other of document.querySelectorAll("#proposal-tabs .ptab")) {
      other.setAttribute("aria-selected", String(other === tab));
    }
    renderProposals();
  });
}

function actionsFor(status) {
  if (status === "pending") return ["approve", "edit", "hide"];
  if (status === "published") return ["edit", "merge", "hide"];
  if (status === "hidden") return ["publish", "edit"];
  return [];
}

function makeRow(id) {
  const tr = el("tr");
  tr.dataset.id = id;
  const rank = el("td", "p-rank");
  const main = el("td");
  const title = el("bdi", "p-title");
  const meta = el("span", "p-meta");
  const bar = el("span", "p-bar");
  const fill = el("span", "p-bar-fill");
  bar.append(fill);
  main.append(title, meta, bar);
  const dots = el("td", "num");
  const voters = el("td", "num");
  const actions = el("td");
  const box = el("div", "p-actions");
  actions.append(box);
  tr.append(rank, main, dots, voters, actions);
  return { tr, rank, title, meta, bar, fill, dots, voters, box, status: null };
}

function renderProposals() {
  const all = [...state.proposals.values()];
  const counts = { pending: 0, published: 0, hidden: 0, merged: 0 };
  for (const p of all) if (p.status in counts) counts[p.status] += 1;
  for (const badge of document.querySelectorAll("[data-count-for]")) {
    const n = counts[badge.dataset.countFor];
    setText(badge, String(n));
    badge.classList.toggle("is-alert", badge.dataset.countFor === "pending" && n > 0);
  }
  const shown = all.filter((p) => p.status === state.filter);
  if (state.filter === "published") shown.sort(byRank);
  else shown.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
  const max = Math.max(1, ...shown.map((p) => p.dots || 0));
  // Ties share a rank number (contract 4), shown "=2"; no dots is no rank yet.
  const numbers = state.filter === "published" ? rankNumbers(shown) : [];
  state.rankText = new Map(
    shown.map((p, i) => [p.id, (p.dots || 0) > 0 ? `${isTied(numbers, i) ? "=" : ""}${numbers[i]}` : "–"]),
  );

  reconcile(tbody, shown, rowsById, {
    key: (proposal) => proposal.id,
    make: (proposal) => makeRow(proposal.id),
    node: (row) => row.tr,
    update: (row, proposal, index) => updateRow(row, proposal, index, max),
  });
  const empty = $("proposals-empty");
  empty.hidden = shown.length > 0;
  setText(empty, TEXT.empty[state.filter]);
}

function updateRow(row, proposal, index, max) {
  const ranked = proposal.status === "published";
  setText(row.rank, ranked ? state.rankText.get(proposal.id) || "" : "");
  setText(row.title, proposal.title);
  const meta = [`#${proposal.id}`, proposal.host_name ? TEXT.byHost(proposal.host_name) : TEXT.organizerAdded];
  if (proposal.status === "merged" && proposal.merged_into) {
    const target = state.proposals.get(proposal.merged_into);
    meta.push(TEXT.mergedInto(target ? target.title : `#${proposal.merged_into}`));
  }
  setText(row.meta, meta.join(" · "));
  row.bar.hidden = !ranked;
  row.fill.style.setProperty("width", `${((proposal.dots || 0) / max) * 100}%`);
  setText(row.dots, String(proposal.dots ?? 0));
  setText(row.voters, String(proposal.voters ?? 0));
  if (row.status !== proposal.status) {
    row.status = proposal.status;
    const buttons = actionsFor(proposal.status).map((action) => {
      const button = el("button", `btn btn-small${action === "approve" ? " btn-primary" : ""}`, TEXT.actions[action]);
      button.type = "button";
      button.dataset.action = action;
      return button;
    });
    row.box.replaceChildren(...buttons);
  }
}

tbody.addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-action]");
  if (!button) return;
  const proposal = state.proposals.get(Number(button.closest("tr").dataset.id));
  if (!proposal) return;
  const action = button.dataset.action;
  if (action === "approve" || action === "publish") {
    await setStatus(proposal, "published", button);
  } else if (action === "hide") {
    if (proposal.dots && !(await confirmDialog(TEXT.confirm.hide(proposal.title, proposal.dots, proposal.voters)))) return;
    await setStatus(proposal, "hidden", button);
  } else if (action === "edit") {
    openEdit(proposal);
  } else if (action === "merge") {
    openMerge(proposal);
  }
});

async function setStatus(proposal, status, button) {
  const updated = await act(button, () => api("PATCH", `${base}/proposals/${proposal.id}`, { status }));
  if (updated) {
    state.proposals.set(updated.id, { ...proposal, ...updated });
    renderProposals();
  }
}

$("add-proposal").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("new-title");
  const created = await act(ev.submitter, () => api("POST", `${base}/proposals`, { title: input.value.trim() }));
  if (created) {
    input.value = "";
    state.proposals.set(created.id, created);
    renderProposals();
    toast(TEXT.proposalAdded);
  }
});

// edit dialog
let editing = null;
const editForm = $("edit-form");
function openEdit(proposal) {
  editing = proposal;
  editForm.elements.namedItem("title").value = proposal.title;
  editForm.elements.namedItem("host_name").value = proposal.host_name || "";
  editForm.elements.namedItem("description").value = proposal.description || "";
  $("edit-error").hidden = true;
  $("edit-dialog").showModal();
}

editForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const changes = {};
  for (const name of ["title", "host_name", "description"]) {
    const value = editForm.elements.namedItem(name).value.trim();
    if (value !== (editing[name] || "")) changes[name] = value;
  }
  try {
    if (Object.keys(changes).length) {
      const updated = await api("PATCH", `${base}/proposals/${editing.id}`, changes);
      state.proposals.set(updated.id, { ...editing, ...updated });
      renderProposals();
    }
    $("edit-dialog").close();
  } catch (problem) {
    $("edit-error").textContent = problem.message;
    $("edit-error").hidden = false;
  }
});

// merge dialog
let merging = null;
let previewRequest = 0;
const mergeTarget = $("merge-target");

function openMerge(proposal) {
  merging = proposal;
  setText($("merge-source"), proposal.title);
  $("merge-error").hidden = true;
  const targets = [...state.proposals.values()]
    .filter((p) => p.status === "published" && p.id !== proposal.id)
    .sort(byRank);
  mergeTarget.replaceChildren(
    ...targets.map((p) => {
      const option = el("option", "", `${p.title} (#${p.id} · ${p.dots ?? 0})`);
      option.value = String(p.id);
      return option;
    }),
  );
  $("merge-ok").disabled = targets.length === 0;
  if (targets.length) loadPreview();
  else $("merge-preview").replaceChildren(document.createTextNode(TEXT.mergeNoTarget));
  $("merge-dialog").showModal();
}

async function loadPreview() {
  const request = ++previewRequest;
  const target = state.proposals.get(Number(mergeTarget.value));
  const box = $("merge-preview");
  box.replaceChildren(document.createTextNode(TEXT.loadingPreview));
  $("merge-ok").disabled = true;
  try {
    const preview = await api("GET", `${base}/proposals/${merging.id}/merge?into=${target.id}`);
    if (request !== previewRequest) return;
    const list = el("ul");
    for (const line of TEXT.mergePreview(preview, target.title)) list.append(el("li", "", line));
    box.replaceChildren(list);
    box.dataset.preview = JSON.stringify(preview);
    $("merge-ok").disabled = false;
  } catch (problem) {
    if (request === previewRequest) box.replaceChildren(document.createTextNode(problem.message));
  }
}

mergeTarget.addEventListener("change", loadPreview);
$("merge-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const target = state.proposals.get(Number(mergeTarget.value));
  try {
    const merged = await api("POST", `${base}/proposals/${merging.id}/merge`, { into: target.id });
    state.proposals.set(merged.id, { ...merging, ...merged });
    renderProposals();
    $("merge-dialog").close();
    toast(TEXT.merged(merging.title, target.title));
  } catch (problem) {
    $("merge-error").textContent = problem.message;
    $("merge-error").hidden = false;
  }
});

// --- badges ---------------------------------------------------------------------------------

function renderBadgeHint() {
  setText($("badge-mode-hint"), state.event.identity_mode === "badge" ? TEXT.badgeModeBadge : TEXT.badgeModeOpen);
}

async function loadBadges() {
  const badges = await api("GET", `${base}/badges`);
  const stats = { total: badges.length, unused: 0, redeemed: 0, revoked: 0 };
  for (const badge of badges) stats[badge.status] += 1;
  setText($("badge-stats"), TEXT.badgeStats(stats));
  return badges;
}

$("badge-generate").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const count = Number($("badge-count").value);
  const created = await act(ev.submitter, () => api("POST", `${base}/badges`, { count }));
  if (created) {
    toast(TEXT.badgesGenerated(created.length));
    await loadBadges();
  }
});

const normalizeCode = (raw) => raw.toUpperCase().replace(/[^A-Z0-9]/g, "");

function showBadge(badge) {
  state.badge = badge;
  const box = $("badge-result");
  box.hidden = false;
  setText($("badge-result-code"), badge.code);
  const pill = $("badge-result-status");
  setText(pill, badge.status);
  pill.dataset.status = badge.status;
  setText($("badge-result-attendee"), TEXT.badgeAttendee(badge.attendee_id));
  $("btn-badge-revoke").disabled = badge.status === "revoked";
  $("btn-badge-reissue").disabled = badge.status === "revoked";
}

$("badge-lookup").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const raw = $("badge-code").value.trim();
  $("badge-new").hidden = true;
  const badges = await act(ev.submitter, loadBadges);
  if (!badges) return;
  const code = normalizeCode(raw);
  // By code, or by attendee id (their newest badge that still works, else their newest).
  const found =
    badges.find((b) => b.code === code) ||
    badges.filter((b) => b.attendee_id === raw && b.status !== "revoked").pop() ||
    badges.filter((b) => b.attendee_id === raw).pop();
  if (found) showBadge(found);
  else {
    $("badge-result").hidden = true;
    toast(TEXT.badgeNotFound, { error: true });
  }
});

$("btn-badge-revoke").addEventListener("click", async (ev) => {
  const button = ev.currentTarget;
  const badge = state.badge;
  if (!(await confirmDialog(TEXT.confirm.revoke(badge.code)))) return;
  const revoked = await act(button, () => api("POST", `${base}/badges/${badge.code}/revoke`));
  if (revoked) {
    showBadge(revoked);
    toast(TEXT.badgeRevoked(revoked.code));
    loadBadges();
  }
});

$("btn-badge-reissue").addEventListener("click", async (ev) => {
  const button = ev.currentTarget;
  const badge = state.badge;
  if (!(await confirmDialog(TEXT.confirm.reissue(badge.code)))) return;
  const fresh = await act(button, () => api("POST", `${base}/badges/${badge.code}/reissue`));
  if (fresh) {
    showBadge({ ...badge, status: "revoked" });
    setText($("badge-new-code"), fresh.code);
    $("badge-new-print").href = `/e/${encodeURIComponent(slug)}/organize/badges/?code=${encodeURIComponent(fresh.code)}`;
    $("badge-new").hidden = false;
    loadBadges();
  }
});

// --- co-organizers --------------------------------------------------------------------------

function renderOrganizers(people) {
  const list = $("organizer-list");
  list.replaceChildren(
    ...people.map((person) => {
      const li = el("li");
      const who = el("span");
      who.append(el("strong", "", person.username));
      if (person.name) who.append(document.createTextNode(` ${person.name}`));
      if (person.username === page.username) who.append(el("span", "hint", ` ${TEXT.you}`));
      if (!person.is_staff) who.append(el("span", "hint", ` · ${TEXT.notStaff}`));
      const remove = el("button", "btn btn-small btn-danger", TEXT.remove);
      remove.type = "button";
      remove.dataset.username = person.username;
      remove.disabled = people.length === 1;
      li.append(who, remove);
      return li;
    }),
  );
}

$("organizer-list").addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-username]");
  if (!button) return;
  const username = button.dataset.username;
  if (username === page.username && !(await confirmDialog(TEXT.confirm.removeSelf))) return;
  const people = await act(button, () => api("DELETE", `${base}/organizers`, { username }));
  if (people) {
    renderOrganizers(people);
    toast(TEXT.organizerRemoved(username));
    if (username === page.username) location.assign("/organize/");
  }
});

$("organizer-add").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = $("organizer-username");
  const username = input.value.trim();
  const people = await act(ev.submitter, () => api("POST", `${base}/organizers`, { username }));
  if (people) {
    input.value = "";
    renderOrganizers(people);
    toast(TEXT.organizerAdd(username));
  }
});

// Cancel buttons are plain buttons, so Enter in a field submits the dialog's real action.
for (const button of document.querySelectorAll("dialog [data-close]")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}

// --- start ------------------------------------------------------------------------------------

const live = createLiveConsole({ api, base, toast, state, act });
const rounds = createRoundsConsole({
  api,
  base,
  toast,
  state,
  act,
  confirmDialog,
  rounds: page.rounds,
  onStarted: render,
});
render();
setInterval(renderPhase, 1000);
connectFeed(slug, { onState, onStatus });
act(null, loadBadges);
act(null, async () => renderOrganizers(await api("GET", `${base}/organizers`)));
