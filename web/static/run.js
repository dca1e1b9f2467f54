// The run page. Training: live charts (values on hover, smoothing and log scale from the
// switches above them) and step counter fed by the run's websocket. Eval: each new
// results.jsonl line on the websocket re-reads the heatmap, counts and samples (rendered
// on the server) at most once a second. Both re-read status, key metrics and the training
// figures (total steps, tokens/s, ETA) every few seconds, so a run that finishes shows
// "done".
import { lineChart, controls } from "./charts.js";
import { follow } from "./events.js";
import { refresh, every, confirmForms } from "./refresh.js";

const root = document.getElementById("run");
const id = root.dataset.id, kind = root.dataset.kind;
const stepEl = document.getElementById("step");
const figs = [...document.querySelectorAll("figure.chart")];
const data = Object.fromEntries(figs.map((f) => [f.dataset.key, []]));
const live = ["status", "run-actions", "run-metrics", "train-stats"];
const evalParts = ["status", "run-actions", "run-metrics", "step", "heatmap", "samples-count", "samples", "pager"];
let pending = false, stale = false, lastEval = 0;
let opts = kind === "train" ? controls((o) => { opts = o; redraw(); }) : {};

function redraw() {
  pending = false;
  for (const f of figs) lineChart(f, [{ name: f.dataset.key, points: data[f.dataset.key] }], opts);
  document.body.dataset.charts = "drawn";
}

async function refreshEval() {
  stale = false;
  lastEval = Date.now();
  await refresh(evalParts);
}

follow(id, (e) => {
  if (kind === "eval") {
    // Events are results.jsonl lines (step = line number), not judged attempts.
    root.dataset.seen = e.step;
    if (!stale) {
      stale = true;
      setTimeout(() => refreshEval().catch(() => { stale = false; }), Math.max(0, lastEval + 1000 - Date.now()));
    }
    return;
  }
  stepEl.textContent = e.step;
  for (const k of Object.keys(data)) if (k in e) data[k].push({ x: e.step, y: e[k] });
  // Coalesce a replay burst into one redraw per frame.
  if (!pending) { pending = true; requestAnimationFrame(redraw); }
}, (state) => document.body.dataset.ws = state);
if (kind === "train") redraw();
confirmForms();
every(3000, () => refresh(kind === "eval" ? evalParts : live));
