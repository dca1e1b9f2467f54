// The run page: live training charts and step counter fed by the run's websocket (eval
// pages are rendered on the server; reload them for a scan's newer results).
import { lineChart } from "./charts.js";
import { follow } from "./events.js";

const root = document.getElementById("run");
const id = root.dataset.id, kind = root.dataset.kind;
const stepEl = document.getElementById("step");
const figs = [...document.querySelectorAll("figure.chart")];
const data = Object.fromEntries(figs.map((f) => [f.dataset.key, []]));
let pending = false;

function redraw() {
  pending = false;
  for (const f of figs) lineChart(f, [data[f.dataset.key]]);
}

follow(id, (e) => {
  // Eval events are results.jsonl lines, not judged attempts: count them apart.
  if (kind === "eval") { root.dataset.lines = e.step; return; }
  stepEl.textContent = e.step;
  {
    for (const k of Object.keys(data)) if (k in e) data[k].push({ x: e.step, y: e[k] });
    // Coalesce a replay burst into one redraw per frame.
    if (!pending) { pending = true; requestAnimationFrame(redraw); }
  }
}, (state) => document.body.dataset.ws = state);
if (kind === "train") redraw();
