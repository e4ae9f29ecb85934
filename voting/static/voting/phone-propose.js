// Proposing: the form (new or edit), near-duplicate hints while typing the title, and the
// attendee's own proposals with edit and withdraw.

import { ApiError, NetworkError } from "./api.js";
import { $, chars, el, fillNodes } from "./dom.js";
import { fill } from "./i18n.js";

const HOST_KEY = "unconf:host-name";
const SIMILAR_DELAY_MS = 300;
const TITLE_MIN = 3;
const TITLE_MAX = 120;

export function createProposing(app) {
  const { T, state, queue, api, votingOpen, remaining, setDots, scheduleRender, toast, loadMe } = app;
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let ownSignature = "";

  const form = $("propose-form");
  const titleInput = $("p-title");
  const descriptionInput = $("p-desc");
  const hostInput = $("p-host");

  function fieldError(name, message) {
    const input = { title: titleInput, description: descriptionInput, host_name: hostInput }[name];
    const box = $(`${input.id}-error`);
    box.textContent = message || "";
    box.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    for (const name of ["title", "description", "host_name"]) fieldError(name, "");
    $("form-error").textContent = "";
    $("form-error").hidden = true;
  }

  function updateCounter() {
    const n = chars(titleInput.value.trim());
    const counter = $("p-title-count");
    counter.textContent = fill(T.chars, { n, max: TITLE_MAX });
    counter.classList.toggle("is-over", n > TITLE_MAX);
  }

  let similarTimer = null;
  let similarSeq = 0;
  titleInput.addEventListener("input", () => {
    updateCounter();
    if (titleInput.getAttribute("aria-invalid")) fieldError("title", "");
    clearTimeout(similarTimer);
    similarTimer = setTimeout(lookupSimilar, SIMILAR_DELAY_MS);
  });

  async function lookupSimilar() {
    const title = titleInput.value.trim();
    const seq = ++similarSeq;
    if (chars(title) < TITLE_MIN) {
      renderSimilar([]);
      return;
    }
    try {
      const found = await api.get(`/proposals/similar?title=${encodeURIComponent(title)}`);
      if (seq !== similarSeq) return; // a newer keystroke won
      renderSimilar(found.filter((p) => String(p.id) !== String(state.editing)));
    } catch {
      if (seq === similarSeq) renderSimilar([]);
    }
  }

  // The hint's vote buttons are updated in place (not rebuilt), so focus stays on them.
  let similarButtons = [];
  function renderSimilar(found) {
    const box = $("similar");
    box.replaceChildren();
    similarButtons = [];
    box.hidden = !found.length;
    if (!found.length) return;
    box.append(el("p", "similar-intro", T.similar_intro));
    const list = el("ul", "similar-list");
    for (const proposal of found.slice(0, 3)) {
      const id = String(proposal.id);
      const item = el("li", "similar-item");
      const title = el("p", "similar-title", proposal.title);
      title.dir = "auto";
      const button = el("button", "btn btn-small btn-secondary");
      button.type = "button";
      const label = el("span");
      button.append(label, el("span", "visually-hidden", ` “${proposal.title}”`));
      button.addEventListener("click", () => {
        const now = queue.dots(id);
        const max = state.event.max_dots_per_proposal;
        setDots(id, max > 1 ? Math.min(max, now + 1) : now ? 0 : 1);
        updateSimilar();
      });
      similarButtons.push({ id, button, label });
      item.append(title, button);
      list.append(item);
    }
    box.append(list);
    updateSimilar();
  }

  function updateSimilar() {
    const max = state.event.max_dots_per_proposal;
    for (const { id, button, label } of similarButtons) {
      const dots = queue.dots(id);
      const voted = dots > 0;
      label.textContent = voted ? T.voted : T.vote;
      button.setAttribute("aria-pressed", String(voted));
      button.disabled = !votingOpen() || (!voted && remaining() <= 0) || (voted && max > 1 && dots >= max);
    }
  }

  let submitting = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const title = titleInput.value.trim();
    const tooShort = chars(title) < TITLE_MIN;
    if (tooShort || chars(title) > TITLE_MAX) {
      fieldError("title", tooShort ? T.title_short : T.title_long);
      titleInput.focus();
      return;
    }
    const body = { title, description: descriptionInput.value.trim(), host_name: hostInput.value.trim() };
    const submit = $("p-submit");
    submitting = true;
    submit.disabled = true;
    try {
      if (state.editing) {
        const updated = await api.patch(`/proposals/${state.editing}`, body);
        storeProposal(updated);
        toast(T.saved_edit);
        stopEdit();
      } else {
        const created = await api.post("/proposals", body);
        storeProposal(created);
        if (state.me && !state.me.proposals.includes(created.id)) state.me.proposals.push(created.id);
        toast(created.status === "published" ? T.proposed : T.proposed_pending);
        resetForm();
      }
      try {
        localStorage.setItem(HOST_KEY, body.host_name);
      } catch {
        /* fine */
      }
    } catch (error) {
      showFormError(error);
    } finally {
      submitting = false;
      renderProposeState();
      scheduleRender();
    }
  });

  function storeProposal(proposal) {
    const id = String(proposal.id);
    if (proposal.status === "published") {
      const known = state.proposals.get(id);
      state.proposals.set(id, { ...known, ...proposal });
      state.own.delete(id);
    } else if (proposal.status === "withdrawn") {
      state.proposals.delete(id);
      state.own.delete(id);
    } else {
      state.proposals.delete(id);
      state.own.set(id, proposal);
    }
    if (state.firstIds && !state.firstIds.has(id) && proposal.mine) state.firstIds.add(id);
  }

  function showFormError(error) {
    const box = $("form-error");
    if (error instanceof ApiError) {
      let placed = false;
      for (const name of ["title", "description", "host_name"]) {
        if (error.fields[name]) {
          fieldError(name, [].concat(error.fields[name]).join(" "));
          placed = true;
        }
      }
      if (!placed) {
        box.textContent = error.detail || T.error;
        box.hidden = false;
      }
      const invalid = form.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      if (error.code === "proposals_closed") state.event.accepting_proposals = false;
    } else {
      box.textContent = error instanceof NetworkError ? T.network_error : T.error;
      box.hidden = false;
    }
  }

  function resetForm() {
    form.reset();
    hostInput.value = defaultHost();
    updateCounter();
    renderSimilar([]);
  }

  function defaultHost() {
    try {
      const saved = localStorage.getItem(HOST_KEY);
      if (saved !== null) return saved;
    } catch {
      /* fall through */
    }
    return app.displayName || "";
  }

  function startEdit(proposal) {
    state.editing = String(proposal.id);
    clearErrors();
    titleInput.value = proposal.title;
    descriptionInput.value = proposal.description || "";
    hostInput.value = proposal.host_name || "";
    $("form-heading").textContent = T.edit_title;
    $("p-submit").textContent = T.save_changes;
    $("p-cancel").hidden = false;
    updateCounter();
    renderSimilar([]);
    $("form-heading").scrollIntoView({ behavior: reducedMotion ? "auto" : "smooth", block: "start" });
    titleInput.focus({ preventScroll: true });
  }

  function stopEdit() {
    state.editing = null;
    $("form-heading").textContent = T.propose_title;
    $("p-submit").textContent = T.submit;
    $("p-cancel").hidden = true;
    clearErrors();
    resetForm();
  }

  $("p-cancel").addEventListener("click", stopEdit);

  function confirmWithdraw(proposal) {
    const dialog = $("confirm");
    $("confirm-text").replaceChildren(...fillNodes(T.withdraw_confirm, { title: proposal.title }));
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener(
      "close",
      async () => {
        if (dialog.returnValue !== "ok") return;
        try {
          const withdrawn = await api.del(`/proposals/${proposal.id}`);
          storeProposal(withdrawn);
          if (state.me) {
            state.me.proposals = state.me.proposals.filter((id) => String(id) !== String(proposal.id));
          }
          if (state.editing === String(proposal.id)) stopEdit();
          toast(T.withdrawn);
          loadMe();
        } catch (error) {
          toast(error instanceof ApiError ? error.detail || T.error : T.network_error);
        }
        scheduleRender();
      },
      { once: true },
    );
  }

  function myProposals() {
    if (!state.me) return [];
    return state.me.proposals
      .map(String)
      .map((id) => state.proposals.get(id) || state.own.get(id))
      .filter(Boolean);
  }

  function renderOwn() {
    const list = $("own");
    const mine = myProposals();
    const accepting = state.event.accepting_proposals && !state.signedOut;
    // Rebuilt only when something it shows changed, so a focused button keeps its focus.
    const into = (p) => (p.merged_into ? (state.proposals.get(String(p.merged_into)) || {}).title || "" : "");
    const signature = JSON.stringify([accepting, mine.map((p) => [p.id, p.title, p.status, into(p)])]);
    if (signature === ownSignature) return;
    ownSignature = signature;
    list.replaceChildren();
    $("own-empty").hidden = mine.length > 0;
    for (const proposal of mine) {
      const item = el("li", "card own");
      const title = el("p", "own-title", proposal.title);
      title.dir = "auto";
      const label = T[`status_${proposal.status}`] || proposal.status;
      const status = el("span", `tag tag-${proposal.status}`, label);
      const actions = el("div", "own-actions");
      const edit = el("button", "btn btn-small btn-ghost", T.edit);
      edit.type = "button";
      edit.append(el("span", "visually-hidden", ` “${proposal.title}”`));
      edit.disabled = !accepting || proposal.status === "merged";
      edit.addEventListener("click", () => startEdit(proposal));
      const withdraw = el("button", "btn btn-small btn-ghost btn-danger-text", T.withdraw);
      withdraw.type = "button";
      withdraw.append(el("span", "visually-hidden", ` “${proposal.title}”`));
      withdraw.disabled = !accepting || proposal.status === "merged";
      withdraw.addEventListener("click", () => confirmWithdraw(proposal));
      actions.append(edit, withdraw);
      if (proposal.status === "merged") {
        // Say into which proposal (its dots went there); nothing left to edit or withdraw.
        item.classList.add("is-merged");
        const target = el("p", "own-merged");
        target.append(...fillNodes(T.merged_into, { title: into(proposal) || "…" }));
        item.append(title, status, target);
      } else {
        item.append(title, status, actions);
      }
      list.append(item);
    }
  }

  function renderProposeState() {
    const accepting = Boolean(state.event.accepting_proposals) && !state.signedOut;
    $("form-closed").hidden = accepting;
    for (const field of form.elements) field.disabled = !accepting || (field.id === "p-submit" && submitting);
    if (!accepting && state.editing) stopEdit();
  }

  hostInput.value = defaultHost();
  updateCounter();

  return {
    render() {
      renderOwn();
      renderProposeState();
      updateSimilar();
    },
  };
}
