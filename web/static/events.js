// follow streams a run's events from /ws/runs/{id}: it replays what exists, then gets each
// new event as it is written, and reconnects with ?from=LAST_STEP after a drop so nothing is
// received twice.
export function follow(id, onEvent, onState) {
  let last = 0, closed = false, delay = 500;
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/runs/${encodeURIComponent(id)}?from=${last}`);
    ws.onopen = () => { delay = 500; onState && onState("live"); };
    ws.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.step <= last) return;
      last = e.step;
      onEvent(e);
    };
    ws.onclose = () => {
      if (closed) return;
      onState && onState("reconnecting");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
  return () => { closed = true; };
}
