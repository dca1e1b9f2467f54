// The compare view: overlays two runs' training curves from /api/runs/{id}/events.
import { lineChart } from "./charts.js";

const box = document.getElementById("compare-charts");
const get = async (id) => (await (await fetch(`/api/runs/${encodeURIComponent(id)}/events`)).json()).events || [];
const [a, b] = await Promise.all([get(box.dataset.a), get(box.dataset.b)]);
for (const f of box.querySelectorAll("figure.chart")) {
  const k = f.dataset.key;
  const s = (ev) => ev.filter((e) => k in e).map((e) => ({ x: e.step, y: e[k] }));
  lineChart(f, [s(a), s(b)]);
}
