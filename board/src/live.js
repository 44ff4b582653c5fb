// Live updates: an EventSource on /api/v1/events/stream opened with a 60-second stream token.
// The browser retries by itself on network errors; when the server refuses (expired token) we fetch a
// fresh token and reopen, passing the last event id so missed events are replayed when possible.
import { api } from "./api.js";

export function connectLive({ onEvent, onState }) {
  let source = null;
  let lastId = "";
  let backoff = 1000;
  let stopped = false;

  async function open() {
    if (stopped) return;
    onState("connecting");
    let token;
    try {
      token = (await api("/events/token", { method: "POST" })).token;
    } catch {
      onState("offline");
      setTimeout(open, (backoff = Math.min(backoff * 2, 15000)));
      return;
    }
    const url = new URL("/api/v1/events/stream", location.origin);
    url.searchParams.set("access_token", token);
    if (lastId) url.searchParams.set("lastEventId", lastId);
    source = new EventSource(url);
    source.onopen = () => { backoff = 1000; onState("live"); };
    source.onmessage = (msg) => {
      if (msg.lastEventId) lastId = msg.lastEventId;
      let data;
      try { data = JSON.parse(msg.data); } catch { return; }
      if (data.kind === "hello") { onState(data.listening ? "live" : "connecting"); return; }
      // The sign-in behind the stream expired: ask for a new stream token now (a 401 there shows the login).
      if (data.kind === "expired") { source.close(); source = null; open(); return; }
      onEvent(data);
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        onState("reconnecting");
        setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 15000);
      } else {
        onState("reconnecting");
      }
    };
  }

  open();
  return {
    close() { stopped = true; if (source) source.close(); },
  };
}
