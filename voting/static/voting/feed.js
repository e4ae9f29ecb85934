// The live feed client shared by the phone, the stage and the console.
// Keeps the highest state version seen, reconnects with backoff and jitter, asks for a
// snapshot after every reconnect, and reports its status so the page never freezes silently.

const PING_EVERY_MS = 15000;
const SILENCE_LIMIT_MS = 40000;

// publicView: receive what the public may see even when signed in; view "stage": the same,
// and the organizers count this page among the event's connected screens (the projector).
export function connectFeed(
  slug,
  { onState, onStatus = () => {}, onMessage = () => {}, publicView = false, view = "" },
) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = view ? `?view=${encodeURIComponent(view)}` : publicView ? "?view=public" : "";
  const url = `${scheme}//${location.host}/ws/events/${encodeURIComponent(slug)}/${query}`;
  let socket = null;
  let version = 0;
  let attempt = 0;
  let lastHeard = Date.now();
  let stopped = false;
  let timer = null;
  let retry = null;

  function status(state, detail) {
    onStatus(state, detail);
  }

  function open() {
    status(attempt === 0 ? "connecting" : "reconnecting");
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      attempt = 0;
      lastHeard = Date.now();
      status("live");
    });
    socket.addEventListener("message", (event) => {
      lastHeard = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "snapshot" || message.type === "tally") {
        // A snapshot after a reconnect may legitimately restart the count: accept it.
        if (message.type === "tally" && message.version <= version) return;
        version = message.version;
        onState(message);
      } else {
        onMessage(message);
      }
    });
    socket.addEventListener("close", (event) => {
      socket = null;
      if (stopped) return;
      if (event.code === 4404 || event.code === 4403) {
        status(event.code === 4404 ? "gone" : "forbidden");
        return;
      }
      attempt += 1;
      const base = Math.min(30000, 500 * 2 ** Math.min(attempt, 6));
      const delay = base * (0.5 + Math.random());
      status("reconnecting", delay);
      retry = setTimeout(open, delay);
    });
  }

  timer = setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > SILENCE_LIMIT_MS) {
      socket.close(); // silent too long: treat as dropped and reconnect
      return;
    }
    socket.send(JSON.stringify({ type: "ping" }));
  }, PING_EVERY_MS);

  window.addEventListener("online", () => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "resync" }));
    // Back online while waiting out a long backoff: try soon rather than in up to 30 s, with
    // jitter, since a whole hall comes back online at the same moment.
    if (!socket && !stopped) {
      clearTimeout(retry);
      retry = setTimeout(open, Math.random() * 2000);
    }
  });

  open();
  return {
    resync() {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "resync" }));
    },
    close() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
      if (socket) socket.close();
    },
  };
}
