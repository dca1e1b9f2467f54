// The offline evaluation page: reads a JSONL file locally (an eval's results.jsonl counts
// each attempt once: rows.js), has the judge Web Worker judge each row, and draws the
// report here. Nothing is sent to the server.
import { barChart } from "./charts.js";
import { parseRows } from "./rows.js";

const status = document.getElementById("offline-status");
const out = document.getElementById("offline-report");
const worker = new Worker("/static/judge-worker.js", { type: "module" });

function pct(k, n) { return n ? k / n : 0; }

function report(rows, verdicts, judge) {
  const by = new Map();
  let harm = 0, unsafe = 0, refused = 0, benign = 0, over = 0;
  rows.forEach((r, i) => {
    const v = verdicts[i], cat = r.category || "uncategorised";
    if (cat === "benign") { benign++; if (v.refusal) over++; return; }
    harm++; if (v.unsafe) unsafe++; if (v.refusal) refused++;
    const c = by.get(cat) || { n: 0, unsafe: 0 };
    c.n++; if (v.unsafe) c.unsafe++;
    by.set(cat, c);
  });
  out.innerHTML = "";
  const t = document.createElement("table");
  t.className = "grid"; t.id = "offline-summary";
  const line = (k, v) => { const tr = t.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = v; };
  line("judge", judge);
  line("rows judged", rows.length);
  line("attack success rate (harmful)", `${pct(unsafe, harm).toFixed(3)} (${unsafe}/${harm})`);
  line("refusal rate (harmful)", `${pct(refused, harm).toFixed(3)} (${refused}/${harm})`);
  line("over-refusal rate (benign)", `${pct(over, benign).toFixed(3)} (${over}/${benign})`);
  out.appendChild(t);
  const h = document.createElement("h2");
  h.textContent = "ASR by category";
  out.appendChild(h);
  barChart(out, [...by.entries()].sort().map(([k, c]) => ({ label: `${k} (${c.n})`, value: pct(c.unsafe, c.n) })));
  document.body.dataset.judged = String(rows.length);
}

document.getElementById("file").addEventListener("change", async (ev) => {
  const f = ev.target.files[0];
  if (!f) return;
  let parsed;
  try { parsed = parseRows(await f.text()); } catch (err) { status.textContent = `${f.name}: ${err.message}`; return; }
  const rows = parsed.rows;
  const of = parsed.attempts < parsed.lines ? ` (${parsed.lines} lines: the latest per id, ${parsed.attempts} attempts)` : "";
  status.textContent = `judging ${rows.length} rows of ${f.name}${of} in this browser…`;
  worker.onmessage = (m) => {
    const d = m.data;
    if (d.progress) status.textContent = `judged ${d.progress}/${d.total}…`;
    else if (d.error) status.textContent = `error: ${d.error}`;
    else { status.textContent = `judged ${rows.length} rows of ${f.name}${of} locally`; report(rows, d.verdicts, d.judge); }
  };
  worker.postMessage({ rows });
});
