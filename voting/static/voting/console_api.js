// JSON calls to the Unconf API from organizer pages: session cookie + Django's CSRF header.
// Errors come back as ApiError with the contract's {detail, code} or DRF's field errors.

// Translated by Django in templates/voting/_api_strings.html (English if a page lacks it).
const STRINGS = document.getElementById("api-strings")?.dataset ?? {};
const TEXT = {
  network: STRINGS.network ?? "The server could not be reached. Check the connection and try again.",
  unexpected: (status) => (STRINGS.unexpected ?? "Unexpected answer from the server ({status}).").replace("{status}", status),
};

export class ApiError extends Error {
  constructor(status, body) {
    const fields = body && !body.detail ? body : null;
    super(body && body.detail ? body.detail : fields ? fieldMessage(fields) : TEXT.unexpected(status));
    this.status = status;
    this.code = (body && body.code) || (fields ? "invalid" : "error");
    this.fields = fields;
  }
}

function fieldMessage(fields) {
  return Object.entries(fields)
    .map(([field, problems]) => `${field}: ${[].concat(problems).join(" ")}`)
    .join(" · ");
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, { detail: TEXT.network, code: "network" });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
