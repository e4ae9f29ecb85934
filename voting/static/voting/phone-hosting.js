// Hosting on the phone: redeem a co-host link (?cohost=CODE), invite a co-host to my own
// proposal, and tick the slots in which I can't host. Times in the event's zone.
import { ApiError } from "./api.js";
import { $, el } from "./dom.js";
import { fill } from "./i18n.js";

export function startHosting(app) {
  const style = document.createElement("link"); // its styles come with it (not on the first load)
  style.rel = "stylesheet";
  style.href = new URL("./phone-hosting.css", import.meta.url).href;
  document.head.append(style);
  const { T, api, toast, attendee } = app;
  const DATA = JSON.parse(document.getElementById("page-data").textContent);
  const box = $("hosting");
  const invites = new Map(); // proposal id -> invite link shown
  let hosted = [];
  let slots = [];
  let unavailable = new Set();

  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: DATA.time_zone,
  });

  async function redeemFromLink() {
    const params = new URLSearchParams(window.location.search);
    const code = params.get("cohost");
    if (!code) return;
    params.delete("cohost");
    const query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? `?${query}` : "") + window.location.hash);
    try {
      const proposal = await api.post("/cohost", { code });
      toast(fill(T.cohost_joined, { title: proposal.title }));
    } catch (error) {
      const code = error instanceof ApiError ? error.code : "";
      toast(code === "cohost_cap" ? T.cohost_cap : code === "already_host" ? T.cohost_already : T.cohost_invalid);
    }
  }

  async function load() {
    try {
      const [proposals, availability] = await Promise.all([api.get("/proposals"), api.get("/me/availability")]);
      hosted = proposals.filter((p) => (p.hosts || []).includes(attendee) && !["withdrawn", "merged"].includes(p.status));
      slots = availability.slots || [];
      unavailable = new Set(availability.unavailable_slots);
      render();
    } catch {
      /* offline: the section stays as it was */
    }
  }

  async function invite(proposal) {
    try {
      const { code } = await api.post(`/proposals/${proposal.id}/cohost-invite`);
      invites.set(proposal.id, `${window.location.origin}${window.location.pathname}?cohost=${encodeURIComponent(code)}`);
      render();
    } catch {
      toast(T.error);
    }
  }

  async function saveAvailability() {
    try {
      const saved = await api.put("/me/availability", { unavailable_slots: [...unavailable] });
      unavailable = new Set(saved.unavailable_slots);
      toast(T.availability_saved);
    } catch {
      toast(T.error);
    }
  }

  function render() {
    box.hidden = hosted.length === 0;
    if (box.hidden) return;
    const sessions = el("ul", "hosting-list");
    for (const proposal of hosted) {
      const item = el("li", "card hosting-item");
      const title = el("p", "own-title", proposal.title);
      title.dir = "auto";
      item.append(title, el("p", "hint", fill(T.cohosts, { n: proposal.hosts.length - 1 })));
      if (proposal.mine) {
        const link = invites.get(proposal.id);
        if (link) {
          const field = el("input", "hosting-link");
          field.readOnly = true;
          field.value = link;
          field.setAttribute("aria-label", T.invite_link);
          const copy = el("button", "btn btn-small btn-secondary", T.copy);
          copy.type = "button";
          copy.addEventListener("click", async () => {
            try {
              await navigator.clipboard.writeText(link);
              toast(T.copied);
            } catch {
              field.select();
            }
          });
          item.append(el("p", "hint", T.invite_link), field, copy);
        } else {
          const button = el("button", "btn btn-small btn-ghost", T.invite);
          button.type = "button";
          button.append(el("span", "visually-hidden", ` “${proposal.title}”`));
          button.addEventListener("click", () => invite(proposal));
          item.append(button);
        }
      }
      sessions.append(item);
    }
    const children = [el("h2", "", T.hosting), sessions];
    if (slots.length) {
      const fieldset = el("fieldset", "card hosting-slots");
      fieldset.append(el("legend", "", T.cant_host), el("p", "hint", T.cant_host_hint));
      for (const slot of slots) {
        const label = el("label", "check");
        const box = el("input");
        box.type = "checkbox";
        box.value = String(slot.id);
        box.checked = unavailable.has(slot.id);
        box.addEventListener("change", () => {
          if (box.checked) unavailable.add(slot.id);
          else unavailable.delete(slot.id);
          saveAvailability();
        });
        const when = timeFormat.format(new Date(slot.starts_at));
        const text = el("span", "", slot.label ? `${slot.label} · ${when}` : when);
        text.dir = "auto";
        label.append(box, text);
        fieldset.append(label);
      }
      children.push(fieldset);
    }
    box.replaceChildren(...children);
  }

  redeemFromLink().then(load);
}
