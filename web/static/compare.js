// The compare view: overlays the picked training runs' curves from
// /api/runs/{id}/events, one colour a run, with the page's smoothing and log switches.
import { lineChart, controls } from "./charts.js";

const box = document.getElementById("compare-charts");
const ids = box.dataset.runs.split(" ").filter(Boolean);
const get = async (id) => (await (await fetch(`/api/runs/${encodeURIComponent(id)}/events`)).json()).events || [];
const runs = await Promise.all(ids.map(get));

function draw(opts) {
  for (const f of box.querySelectorAll("figure.chart")) {
    const k = f.dataset.key;
    lineChart(f, runs.map((ev, i) => ({ name: ids[i], points: ev.filter((e) => k in e).map((e) => ({ x: e.step, y: e[k] })) })), opts);
  }
  document.body.dataset.charts = "drawn";
}
draw(controls(draw));
