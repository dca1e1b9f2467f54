// Small SVG charts for the monitor (no library, no CDN): line charts of training events
// and bar charts of rates.
const NS = "http://www.w3.org/2000/svg";
const W = 400, H = 170, L = 44, R = 8, T = 8, B = 20;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(1);
  return (+v.toPrecision(3)).toString();
}

// lineChart redraws fig's SVG with series: [[{x, y}], ...] (one colour each).
export function lineChart(fig, series) {
  let svg = fig.querySelector("svg");
  if (svg) svg.remove();
  svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" }, fig);
  const pts = series.flat().filter((p) => Number.isFinite(p.y));
  if (pts.length === 0) { el("text", { x: W / 2 - 30, y: H / 2 }, svg).textContent = "no data yet"; return; }
  let x0 = Math.min(...pts.map((p) => p.x)), x1 = Math.max(...pts.map((p) => p.x));
  let y0 = Math.min(...pts.map((p) => p.y)), y1 = Math.max(...pts.map((p) => p.y));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }, svg);
  el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }, svg);
  for (const [v, y] of [[y1, T + 8], [y0, H - B]]) el("text", { x: 2, y }, svg).textContent = fmt(v);
  el("text", { x: L, y: H - 4 }, svg).textContent = fmt(x0);
  el("text", { x: W - R - 30, y: H - 4 }, svg).textContent = fmt(x1);
  series.forEach((s, i) => {
    const d = s.filter((p) => Number.isFinite(p.y)).map((p, j) => `${j ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join("");
    if (d) el("path", { d, class: `s${i}` }, svg);
  });
}

// barChart draws labelled bars of values in [0, 1].
export function barChart(parent, rows) {
  const h = 22 * rows.length + 10;
  const svg = el("svg", { viewBox: `0 0 ${W} ${h}`, width: "100%", height: h }, parent);
  rows.forEach((r, i) => {
    el("text", { x: 0, y: 22 * i + 18 }, svg).textContent = r.label;
    el("rect", { x: 120, y: 22 * i + 6, width: Math.max(1, 240 * r.value), height: 14, class: r.cls || "bar" }, svg);
    el("text", { x: 124 + 240 * r.value, y: 22 * i + 18 }, svg).textContent = fmt(r.value);
  });
  return svg;
}
