// The one HTTP client for /api/… on every page (phone, consoles, schedule console): JSON in and
// out, the session or attendee cookie (same origin) and Django's CSRF header on unsafe requests
// (the csrftoken cookie is readable on purpose). Two kinds of failure the caller can tell apart:
//   NetworkError: nothing came back (offline, timeout): the request may be retried as is.
//   ApiError: the server answered and refused (contract: {"detail", "code"} or DRF's field
//   errors {"title": ["…"]}): `status`, `code`, `detail`, `fields`, `retryAfter`.
// Either one's `message` is a sentence for a person, translated by Django
// (templates/voting/_api_strings.html, rendered by base.html on every page).

const STRINGS = document.getElementById("api-strings")?.dataset ?? {};

export class NetworkError extends Error {
  constructor() {
    super(STRINGS.network);
    this.status = 0;
    this.code = "network";
  }
}

function fieldMessage(fields) {
  return Object.entries(fields)
    .map(([field, problems]) => `${field}: ${[].concat(problems).join(" ")}`)
    .join(" · ");
}

export class ApiError extends Error {
  constructor(status, body, retryAfter = 0) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    const code = (body && typeof body.code === "string" && body.code) || "";
    const fields = body && typeof body === "object" && !detail && !code ? body : {};
    const unexpected = (STRINGS.unexpected || "HTTP {status}").replace("{status}", status);
    super(detail || fieldMessage(fields) || unexpected);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }

  get retryable() {
    return this.status === 429 || this.status >= 500;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return "";
}

/**
 * One request to `url`. Options: `headers` (extra), `timeout` (ms; none by default: a schedule
 * generation may take its time), `csrfCookie` (the cookie holding Django's CSRF token).
 */
export async function api(method, url, body, { headers = {}, timeout = 0, csrfCookie = "csrftoken" } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (method !== "GET") sent["X-CSRFToken"] = cookie(csrfCookie);
  const controller = new AbortController();
  const timer = timeout ? setTimeout(() => controller.abort(), timeout) : null;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch {
    throw new NetworkError();
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null; // 204, an HTML page from a proxy, or an empty body
  }
  if (!response.ok) throw new ApiError(response.status, data, Number(response.headers.get("Retry-After")) || 0);
  return data;
}

/** The calls of one event's API (/api/events/<slug>…), each with the same options. */
export function eventApi(slug, options = {}) {
  const base = `/api/events/${encodeURIComponent(slug)}`;
  const call = (method) => (path, body, headers) => api(method, base + path, body, { ...options, headers });
  return { get: call("GET"), put: call("PUT"), post: call("POST"), patch: call("PATCH"), del: call("DELETE") };
}
