// Live updates while online: the technician's own event stream (fetch + a readable stream, so the bearer
// token travels in a header, never in a URL). It only says "your jobs changed"; the app then asks for the
// list with its ETag (a 304 costs nothing). Reconnects with a growing pause; stops while offline.
import { API } from "./api.js";
import { lang } from "./i18n.js";

export function startLive({ token, onChange, onState }) {
  let stopped = false;
  let ctl = null;
  let pause = 1000;

  async function run() {
    while (!stopped) {
      if (!navigator.onLine) {
        onState("offline");
        await waitOnline();
        continue;
      }
      ctl = new AbortController();
      try {
        const res = await fetch(`${API}/me/stream`, {
          headers: { Authorization: `Bearer ${token()}`, Accept: "text/event-stream", "Accept-Language": lang() },
          signal: ctl.signal,
          cache: "no-store",
        });
        if (res.status === 401) {
          onState("expired");
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState("live");
        pause = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const chunk = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = chunk
              .split("\n")
              .filter((l) => l.startsWith("data:"))
              .map((l) => l.slice(5).trim())
              .join("\n");
            if (!data) continue;
            let msg;
            try {
              msg = JSON.parse(data);
            } catch {
              continue;
            }
            if (msg.kind === "expired") {
              onState("expired");
              return;
            }
            onChange(msg);
          }
        }
      } catch {
        if (stopped) return;
      }
      onState("reconnecting");
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 30000);
    }
  }

  function waitOnline() {
    return new Promise((resolve) => {
      const on = () => {
        window.removeEventListener("online", on);
        resolve();
      };
      window.addEventListener("online", on);
    });
  }

  const onOffline = () => ctl?.abort();
  window.addEventListener("offline", onOffline);
  run();
  return () => {
    stopped = true;
    window.removeEventListener("offline", onOffline);
    ctl?.abort();
  };
}
