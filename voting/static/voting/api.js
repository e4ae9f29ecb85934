// The one client for /api/… (phone and organizer pages): JSON, same-origin cookies, Django's
// CSRF header on unsafe requests. NetworkError: nothing came back (may be retried as is).
// ApiError: the server refused (contract: {detail, code} or DRF field errors): status, code,
// detail, fields, retryAfter. Messages from _api_strings.html (organizer pages), translated.

const STRINGS = document.getElementById("api-strings")?.dataset ?? {};

export class NetworkError extends Error {
  constructor() {
    super(STRINGS.network);
    this.status = 0;
    this.code = "network";
  }
}

export class ApiError extends Error {
  constructor(status, body, retryAfter = 0) {
    const detail = typeof body?.detail === "string" ? body.detail : "";
    const code = (typeof body?.code === "string" && body.code) || "";
    const fields = body && typeof body === "object" && !detail && !code ? body : {};
    const problems = Object.entries(fields).map(([field, list]) => `${field}: ${[].concat(list).join(" ")}`);
    super(detail || problems.join(" · ") || (STRINGS.unexpected || "HTTP {status}").replace("{status}", status));
    Object.assign(this, { status, code, detail, fields, retryAfter });
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

// timeout (ms): none unless asked (a schedule generation may take its time).
export async function api(method, url, body, { headers = {}, timeout = 0, csrfCookie = "csrftoken" } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (method !== "GET") sent["X-CSRFToken"] = cookie(csrfCookie);
  const controller = new AbortController();
  const timer = timeout && setTimeout(() => controller.abort(), timeout);
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
  const data = await response.json().catch(() => null); // 204, a proxy's HTML page, no body
  if (!response.ok) throw new ApiError(response.status, data, Number(response.headers.get("Retry-After")) || 0);
  return data;
}

// One event's API: get/put/post/patch/del on /api/events/<slug><path>.
export function eventApi(slug, options = {}) {
  const base = `/api/events/${encodeURIComponent(slug)}`;
  const call = (method) => (path, body, headers) => api(method, base + path, body, { ...options, headers });
  return { get: call("GET"), put: call("PUT"), post: call("POST"), patch: call("PATCH"), del: call("DELETE") };
}
