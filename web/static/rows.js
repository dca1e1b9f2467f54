// parseRows reads the offline page's JSONL: {"prompt","response","category"} rows, or an
// eval's results.jsonl, where an attempt has a line per state (pending, generated,
// judged): the latest line per id wins, so each attempt counts once. Rows without an id
// count one a line; attempts without an answer yet (pending) are left out.
// It returns {rows, lines, attempts}: the rows to judge, the JSON lines read, and the
// distinct attempts among them.
export function parseRows(text) {
  const latest = new Map(); // id -> index in order
  const order = [];
  let lines = 0;
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let o;
    try { o = JSON.parse(line); } catch { throw new Error(`line ${i + 1}: not JSON`); }
    if (o === null || typeof o !== "object" || Array.isArray(o)) throw new Error(`line ${i + 1}: not a JSON object`);
    lines++;
    const id = o.id === undefined || o.id === null || o.id === "" ? null : String(o.id);
    if (id === null) { order.push(o); return; }
    if (latest.has(id)) order[latest.get(id)] = o;
    else { latest.set(id, order.length); order.push(o); }
  });
  const rows = order
    .filter((o) => typeof o.response === "string") // pending attempts have no answer yet
    .map((o) => ({ prompt: String(o.prompt || ""), response: o.response, category: String(o.category || "") }));
  return { rows, lines, attempts: order.length };
}
