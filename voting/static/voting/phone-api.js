// The phone's HTTP client for /api/events/<slug>/…: JSON in and out, Django's CSRF header on
// unsafe requests (the attendee cookie is HttpOnly; the csrftoken cookie is readable on purpose),
// and two kinds of failure the caller must tell apart:
//   NetworkError: nothing came back (offline, timeout): the request may be retried as is.
//   ApiError: the server answered and refused: `status`, `code`, `detail`, `fields`, `retryAfter`.

const TIMEOUT_MS = 12000;

export class NetworkError extends Error {}

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = (body && typeof body.code === "string" && body.code) || "";
    this.detail = detail;
    // DRF field errors: {"title": ["…"]}
    this.fields = body && !body.code && typeof body === "object" ? body : {};
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

export function createApi(slug, csrfCookie = "csrftoken") {
  const base = `/api/events/${encodeURIComponent(slug)}`;

  async function request(method, path, body, extra = {}) {
    const headers = { Accept: "application/json", ...extra };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = cookie(csrfCookie);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let response;
    try {
      response = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
    } catch (error) {
      throw new NetworkError(error && error.message);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null; // an HTML page from a proxy, or an empty body
    }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get("Retry-After")) || 0;
      throw new ApiError(response.status, data, retryAfter);
    }
    return data;
  }

  return {
    get: (path) => request("GET", path),
    put: (path, body, headers) => request("PUT", path, body, headers),
    post: (path, body) => request("POST", path, body),
    patch: (path, body) => request("PATCH", path, body),
    del: (path) => request("DELETE", path),
  };
}
