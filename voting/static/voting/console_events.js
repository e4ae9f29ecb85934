// The organizer's start page: create an event through POST /api/events, then open its console.
import { api } from "./api.js";
import { $ } from "./dom.js";

const submit = document.querySelector("#event-form button[type=submit]");
// Both labels come translated from the template (data-busy-label and the button's own text).
const TEXT = {
  creating: submit.dataset.busyLabel,
  create: submit.textContent,
};

const form = $("event-form");
const error = $("event-error");
const preview = $("slug-preview");
let slugTouched = false;
// Named access like form.name would hit the form's own properties: always ask the collection.
const field = (name) => form.elements.namedItem(name);

function slugify(text) {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50);
}

function showSlug() {
  preview.textContent = field("slug").value || "…";
}

field("name").addEventListener("input", () => {
  if (!slugTouched) field("slug").value = slugify(field("name").value);
  showSlug();
});
field("slug").addEventListener("input", () => {
  slugTouched = field("slug").value !== "";
  showSlug();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  button.textContent = TEXT.creating;
  const body = {
    name: field("name").value.trim(),
    // The name alone is enough: its address is derived even if no input event fired
    // (autofill, a restored form, typing before this script loaded).
    slug: field("slug").value.trim() || slugify(field("name").value),
    identity_mode: field("identity_mode").value,
    votes_per_attendee: Number(field("votes_per_attendee").value),
    max_dots_per_proposal: Number(field("max_dots_per_proposal").value),
    tally_visibility: field("tally_visibility").value,
    moderation: field("moderation").value,
  };
  try {
    const created = await api("POST", "/api/events", body);
    location.assign(`/e/${encodeURIComponent(created.slug)}/organize/`);
  } catch (problem) {
    error.textContent = problem.message;
    error.hidden = false;
    button.disabled = false;
    button.textContent = TEXT.create;
  }
});
