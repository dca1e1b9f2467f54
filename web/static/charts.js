// Small SVG charts for the monitor (no library, no CDN): line charts of training events
// with values on hover, optional smoothing and log scale, and bar charts of rates.
const NS = "http://www.w3.org/2000/svg";
const W = 400, H = 170, L = 46, R = 8, T = 8, B = 20;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// fmt shows a value with at most 4 significant digits, and exactly 0 as "0".
export function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2).replace(/\.?0+e/, "e");
  return String(+v.toPrecision(4));
}

// niceTicks returns about n round values spanning [lo, hi] and the step between them.
export function niceTicks(lo, hi, n = 4) {
  const span = hi - lo;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step);
  return { ticks, step };
}

// tickLabel formats a tick as a multiple of step: round values, no float noise
// (-2.1e-14 is 0), the same decimals on one axis.
export function tickLabel(v, step) {
  if (Math.abs(v) < step * 1e-6) return "0";
  const a = Math.max(Math.abs(v), Math.abs(step));
  if (a >= 1e6 || Math.abs(step) < 1e-4) {
    const digits = Math.max(0, Math.min(6, Math.floor(Math.log10(Math.abs(v))) - Math.floor(Math.log10(step))));
    return v.toExponential(digits).replace(/\.?0+e/, "e");
  }
  const mag = Math.floor(Math.log10(step) + 1e-9);
  const dec = Math.max(0, -mag + (Math.abs(step / 10 ** mag - 2.5) < 1e-9 ? 1 : 0));
  return (Math.round(v / step) * step).toFixed(Math.min(dec, 8));
}

// smooth is TensorBoard's debiased exponential moving average (weight 0: the data).
export function smooth(points, weight) {
  if (!(weight > 0)) return points;
  let last = 0, n = 0;
  return points.map((p) => {
    last = last * weight + (1 - weight) * p.y;
    n++;
    return { x: p.x, y: last / (1 - weight ** n), raw: p.y };
  });
}

// settings are the page's chart switches, kept across pages in localStorage.
const KEY = "aegis.charts";
export function settings() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "{}");
    return { smooth: !!s.smooth, weight: Number.isFinite(s.weight) ? s.weight : 0.6, log: !!s.log };
  } catch { return { smooth: false, weight: 0.6, log: false }; }
}

// controls wires the #chart-controls switches (smooth, its weight, log scale) and calls
// onChange with the settings whenever one changes.
export function controls(onChange) {
  const box = document.getElementById("chart-controls");
  if (!box) return settings();
  const s = settings();
  box.querySelector('[name="smooth"]').checked = s.smooth;
  box.querySelector('[name="weight"]').value = s.weight;
  box.querySelector('[name="log"]').checked = s.log;
  box.addEventListener("input", () => {
    const n = {
      smooth: box.querySelector('[name="smooth"]').checked,
      weight: +box.querySelector('[name="weight"]').value,
      log: box.querySelector('[name="log"]').checked,
    };
    try { localStorage.setItem(KEY, JSON.stringify(n)); } catch { /* private mode */ }
    onChange(n);
  });
  return s;
}

// lineChart redraws fig's SVG. series: [{name, points: [{x, y}]}] (or plain point arrays),
// one colour each; opts: {smooth, weight, log}. Hovering shows each series' value at the
// nearest step.
export function lineChart(fig, series, opts = {}) {
  for (const old of fig.querySelectorAll("svg, .tip, .note")) old.remove();
  series = series.map((s, i) => (Array.isArray(s) ? { name: "", points: s } : s)).map((s, i) => ({ ...s, i, points: s.points.filter((p) => Number.isFinite(p.y)) }));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" }, fig);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) { el("text", { x: W / 2 - 30, y: H / 2 }, svg).textContent = "no data yet"; return; }
  const weight = opts.smooth ? opts.weight ?? 0.6 : 0;
  let log = !!opts.log;
  if (log && all.some((p) => p.y <= 0)) {
    log = false;
    const note = document.createElement("span");
    note.className = "note";
    note.textContent = " (log scale: has values ≤ 0, shown linear)";
    fig.querySelector("figcaption")?.appendChild(note);
  }
  fig.dataset.log = log ? "1" : "0";
  fig.dataset.smooth = weight > 0 ? String(weight) : "0";
  const drawn = series.map((s) => ({ ...s, line: smooth(s.points, weight) }));
  const ty = (y) => (log ? Math.log10(y) : y);
  const xs = all.map((p) => p.x), ys = all.map((p) => ty(p.y));
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1;
  const mag = Math.max(Math.abs(y0), Math.abs(y1));
  if (y1 - y0 <= 1e-9 * Math.max(1, mag)) { // flat up to float noise (a margin of ±1e-14 is 0)
    const c = mag < 1e-9 ? 0 : (y0 + y1) / 2, d = Math.abs(c) * 0.1 || 0.5;
    y0 = c - d; y1 = c + d;
  }
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => T + (1 - (ty(y) - y0) / (y1 - y0)) * (H - T - B);
  // Axes, grid and labels.
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }, svg);
  el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }, svg);
  const yt = log ? logTicks(y0, y1) : niceTicks(y0, y1, 4);
  for (const v of yt.ticks) {
    const y = T + (1 - (v - y0) / (y1 - y0)) * (H - T - B);
    el("line", { x1: L, y1: y, x2: W - R, y2: y, class: "grid" }, svg);
    el("text", { x: L - 3, y: y + 3, "text-anchor": "end", class: "tick y" }, svg).textContent = log ? fmt(10 ** v) : tickLabel(v, yt.step);
  }
  const xt = niceTicks(x0, x1, 4);
  if (xt.step < 1) { xt.step = 1; xt.ticks = [...new Set(xt.ticks.map(Math.round))]; }
  for (const v of xt.ticks) el("text", { x: sx(v), y: H - 5, "text-anchor": "middle", class: "tick x" }, svg).textContent = tickLabel(v, xt.step);
  // Lines: the smoothed line over the faint data when smoothing.
  for (const s of drawn) {
    const path = (pts) => pts.map((p, j) => `${j ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join("");
    if (weight > 0 && s.points.length) el("path", { d: path(s.points), class: `raw s${s.i % 6}` }, svg);
    if (s.line.length) el("path", { d: path(s.line), class: `line s${s.i % 6}` }, svg);
  }
  hover(fig, svg, drawn, { sx, sy, x0, x1, weight });
}

// logTicks are the powers of ten within [lo, hi] (log10 values), or about four evenly
// spaced values when the range spans less than two of them.
function logTicks(lo, hi) {
  const ticks = [];
  for (let k = Math.ceil(lo); k <= Math.floor(hi); k++) ticks.push(k);
  if (ticks.length >= 2) return { ticks, step: 1 };
  return niceTicks(lo, hi, 3);
}

// hover shows a guide at the step under the pointer and a tip with each series' value
// there (the data, and the smoothed value when smoothing).
function hover(fig, svg, drawn, { sx, sy, x0, x1, weight }) {
  const guide = el("line", { y1: T, y2: H - B, class: "guide", visibility: "hidden" }, svg);
  const dots = drawn.map((s) => el("circle", { r: 2.5, class: `dot s${s.i % 6}`, visibility: "hidden" }, svg));
  const tip = document.createElement("div");
  tip.className = "tip";
  tip.hidden = true;
  fig.appendChild(tip);
  const nearest = (pts, x) => {
    let lo = 0, hi = pts.length - 1;
    while (lo < hi) { const m = (lo + hi) >> 1; if (pts[m].x < x) lo = m + 1; else hi = m; }
    if (lo > 0 && Math.abs(pts[lo - 1].x - x) <= Math.abs(pts[lo].x - x)) lo--;
    return pts[lo];
  };
  const show = (clientX) => {
    const box = svg.getBoundingClientRect();
    const vx = ((clientX - box.left) / box.width) * W;
    const x = x0 + ((vx - L) / (W - L - R)) * (x1 - x0);
    let at = null;
    const rows = [];
    drawn.forEach((s, k) => {
      if (!s.line.length) { dots[k].setAttribute("visibility", "hidden"); return; }
      const p = nearest(s.line, x);
      if (at === null || Math.abs(p.x - x) < Math.abs(at - x)) at = p.x;
      dots[k].setAttribute("cx", sx(p.x)); dots[k].setAttribute("cy", sy(p.y)); dots[k].setAttribute("visibility", "visible");
      const v = weight > 0 ? `${fmt(p.raw)} (smoothed ${fmt(p.y)})` : fmt(p.y);
      rows.push(`<div><span class="key s${s.i % 6}">■</span> ${esc(s.name || "value")}: <b>${v}</b> <small>step ${p.x}</small></div>`);
    });
    if (at === null) return;
    guide.setAttribute("x1", sx(at)); guide.setAttribute("x2", sx(at)); guide.setAttribute("visibility", "visible");
    tip.innerHTML = rows.join("");
    tip.hidden = false;
    const fb = fig.getBoundingClientRect();
    const px = box.left - fb.left + (sx(at) / W) * box.width;
    tip.style.top = `${box.top - fb.top + 4}px`;
    tip.style.left = px > fb.width / 2 ? "" : `${px + 10}px`;
    tip.style.right = px > fb.width / 2 ? `${fb.width - px + 10}px` : "";
    fig.dataset.hover = String(at);
  };
  svg.addEventListener("pointermove", (e) => show(e.clientX));
  svg.addEventListener("pointerleave", () => {
    tip.hidden = true;
    guide.setAttribute("visibility", "hidden");
    dots.forEach((d) => d.setAttribute("visibility", "hidden"));
    delete fig.dataset.hover;
  });
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
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
