"""The built-in ``/dashboard`` page: one self-contained HTML document (inline CSS, JS, SVG).

No CDN, no external fonts: the demo runs where nothing outside can be reached. The page
draws the data embedded in it at once (so it shows something even before its first
poll), then polls ``<page>/data`` every second. Plots are SVG built by a few lines of JS:

- ``#confidence``: confidence of the rank and PMI decisions, recent decisions;
- ``#latency``: decision latency (ms), with p50/p99 of the recent decisions;
- ``#se``: spectral efficiency legacy vs xApp vs oracle (scoreboard records, if any);
- ``#mix``: decision mix by reason and by rank (bars);
- ``#recent``: a table of the latest decisions.

Every plotted line is a ``polyline`` with ``data-series`` naming it and every bar a
``rect.bar`` with ``data-label``, so a headless browser test can find them.
"""

from __future__ import annotations

import html
import json
from typing import Any

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>LinkFM xApp: %(title)s</title>
<style>
 body{font-family:sans-serif;margin:16px;background:#f6f7f9;color:#1c2430}
 h1{font-size:20px;margin:0 0 4px} .sub{color:#5a6472;font-size:13px;margin-bottom:12px}
 .grid{display:grid;grid-template-columns:repeat(2,minmax(380px,1fr));gap:12px}
 .card{background:#fff;border:1px solid #d9dee5;border-radius:6px;padding:10px}
 .card h2{font-size:14px;margin:0 0 6px} svg{width:100%%;height:200px;display:block}
 table{border-collapse:collapse;font-size:12px;width:100%%}
 td,th{border-bottom:1px solid #e5e8ec;padding:2px 6px;text-align:right}
 .legend{font-size:11px} .note{font-size:12px;color:#5a6472}
</style></head>
<body>
<h1>LinkFM xApp: %(title)s</h1>
<div class="sub" id="status">waiting for data</div>
<div class="grid">
 <div class="card"><h2>Confidence (recent decisions)</h2><svg id="confidence"></svg></div>
 <div class="card"><h2>Decision latency, ms <span id="latency-stats" class="note"></span></h2>
  <svg id="latency"></svg></div>
 <div class="card"><h2>Spectral efficiency, bit/s/Hz: legacy vs xApp</h2><svg id="se"></svg>
  <div class="note" id="se-note"></div></div>
 <div class="card"><h2>Decision mix (reason, rank)</h2><svg id="mix"></svg></div>
 <div class="card" style="grid-column:1/3"><h2>Latest decisions</h2>
  <table id="recent"><thead><tr><th>time</th><th>E2 node</th><th>cell</th><th>UE</th>
  <th>rank</th><th>PMI</th><th>beam</th><th>conf rank</th><th>conf PMI</th><th>reason</th>
  <th>latency ms</th></tr></thead><tbody></tbody></table></div>
</div>
<script id="initial-data" type="application/json">%(initial)s</script>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
function el(name, attrs, parent) {
  const node = document.createElementNS(NS, name);
  for (const k in attrs) node.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(node);
  return node;
}
function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }
function box(svg) { const r = svg.getBoundingClientRect();
  return {w: Math.max(r.width, 300), h: Math.max(r.height, 150)}; }
function lineChart(svg, series, yLabel) {
  clear(svg);
  const {w, h} = box(svg), L = 44, R = 8, T = 18, B = 20;
  const all = series.flatMap(s => s.points);
  if (!all.length) { el("text", {x: L, y: h / 2, class: "empty"}, svg).textContent = "no data yet";
    return; }
  const xs = all.map(p => p[0]), ys = all.map(p => p[1]);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(0, ...ys), y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1; if (y1 === y0) y1 = y0 + 1;
  const sx = x => L + (x - x0) / (x1 - x0) * (w - L - R);
  const sy = y => h - B - (y - y0) / (y1 - y0) * (h - T - B);
  el("line", {x1: L, y1: h - B, x2: w - R, y2: h - B, stroke: "#888"}, svg);
  el("line", {x1: L, y1: T, x2: L, y2: h - B, stroke: "#888"}, svg);
  for (const v of [y0, (y0 + y1) / 2, y1]) {
    el("text", {x: L - 4, y: sy(v) + 4, "text-anchor": "end", "font-size": 10}, svg)
      .textContent = v.toFixed(v >= 10 ? 0 : 2);
  }
  el("text", {x: L, y: 12, "font-size": 10}, svg).textContent = yLabel;
  series.forEach((s, i) => {
    if (!s.points.length) return;
    el("polyline", {points: s.points.map(p => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1))
      .join(" "), fill: "none", stroke: s.color || COLORS[i %% COLORS.length],
      "stroke-width": 1.5, "data-series": s.name}, svg);
    el("text", {x: w - R - 4, y: T + 12 * i, "text-anchor": "end", class: "legend",
      fill: s.color || COLORS[i %% COLORS.length]}, svg).textContent = s.name;
  });
}
function barChart(svg, groups) {
  clear(svg);
  const {w, h} = box(svg), T = 10, B = 30;
  const bars = groups.flatMap(g => Object.entries(g.counts)
    .map(([k, v], i) => ({label: g.name + " " + k, value: v, color: COLORS[i %% COLORS.length]})));
  if (!bars.length) {
    el("text", {x: 10, y: h / 2, class: "empty"}, svg).textContent = "no data yet"; return;
  }
  const max = Math.max(...bars.map(b => b.value)), bw = (w - 20) / bars.length;
  bars.forEach((b, i) => {
    const bh = b.value / max * (h - T - B);
    el("rect", {x: 10 + i * bw + 2, y: h - B - bh, width: Math.max(bw - 4, 1), height: bh,
      fill: b.color, class: "bar", "data-label": b.label}, svg);
    el("text", {x: 10 + i * bw + bw / 2, y: h - B + 12, "text-anchor": "middle",
      "font-size": 10}, svg).textContent = b.label;
    el("text", {x: 10 + i * bw + bw / 2, y: h - B - bh - 2, "text-anchor": "middle",
      "font-size": 10}, svg).textContent = b.value;
  });
}
function pct(values, q) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
function render(data) {
  const d = data.decisions, sc = data.scores;
  document.getElementById("status").textContent = data.total_decisions + " decisions, " +
    d.length + " shown, " + sc.length + " scoreboard samples; updated " +
    new Date().toLocaleTimeString();
  lineChart(document.getElementById("confidence"), [
    {name: "rank", points: d.map((r, i) => [i, r.confidence_rank])},
    {name: "pmi", points: d.map((r, i) => [i, r.confidence_pmi])},
    {name: "beam", points: d.map((r, i) => [i, r.confidence_beam])
      .filter(p => p[1] !== null)}], "probability");
  const lat = d.map(r => r.latency_ms);
  lineChart(document.getElementById("latency"),
    [{name: "latency", points: d.map((r, i) => [i, r.latency_ms])}], "ms");
  document.getElementById("latency-stats").textContent = lat.length ?
    "p50 " + pct(lat, 0.5).toFixed(2) + " / p99 " + pct(lat, 0.99).toFixed(2) : "";
  const t0 = sc.length ? sc[0].t : 0;
  lineChart(document.getElementById("se"), [
    {name: "legacy", points: sc.map(s => [s.t - t0, s.se_legacy])},
    {name: "xapp", points: sc.map(s => [s.t - t0, s.se_xapp])},
    {name: "oracle", points: sc.filter(s => s.se_oracle !== null)
      .map(s => [s.t - t0, s.se_oracle])}], "bit/s/Hz");
  document.getElementById("se-note").textContent = sc.length ? "" :
    "no scoreboard records (the simulator writes them)";
  barChart(document.getElementById("mix"),
    [{name: "", counts: data.mix.reason}, {name: "rank", counts: data.mix.rank}]);
  const body = document.querySelector("#recent tbody");
  body.innerHTML = "";
  for (const r of d.slice(-12).reverse()) {
    const tr = document.createElement("tr");
    for (const v of [new Date(r.t * 1000).toLocaleTimeString(), r.e2_node, r.cell, r.ue_id,
        r.rank, r.pmi, r.beam === null ? "-" : r.beam, r.confidence_rank.toFixed(2),
        r.confidence_pmi.toFixed(2), r.reason, r.latency_ms.toFixed(2)]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}
const dataUrl = location.pathname.replace(/\\/?$/, "/data");
async function poll() {
  try { const r = await fetch(dataUrl, {cache: "no-store"}); if (r.ok) render(await r.json()); }
  catch (e) { document.getElementById("status").textContent = "data unavailable: " + e; }
}
render(JSON.parse(document.getElementById("initial-data").textContent));
setInterval(poll, %(poll_ms)d);
</script></body></html>
"""


def render_page(initial: dict[str, Any], title: str = "linkfm", poll_ms: int = 1000) -> str:
    """The page with ``initial`` (a :meth:`RecentRecords.snapshot`) embedded as JSON."""
    # "</" inside a <script> element would end it early: JSON allows "<\\/" for "</".
    embedded = json.dumps(initial, separators=(",", ":")).replace("</", "<\\/")
    return _TEMPLATE % {"title": html.escape(title), "initial": embedded, "poll_ms": poll_ms}
