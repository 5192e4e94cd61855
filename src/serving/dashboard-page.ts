/**
 * The dashboard's page: plain HTML and JavaScript (no build step), charts
 * drawn with uPlot served from node_modules. It reads the server-sent events
 * of /events: a `snapshot` of the run so far, then `epochStart`, `batch`,
 * `epoch` and `end` updates. `data-*` attributes expose what is drawn (for
 * tests and scripts): body[data-status], body[data-batch-points],
 * body[data-epochs], and each last-epoch cell's data-key / data-value.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>rxkeras training</title>
<link rel="stylesheet" href="/uPlot.min.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 16px 24px; background: #f7f7f8; color: #222; }
  h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 15px; margin: 18px 0 6px; color: #444; }
  #status { font-size: 13px; padding: 2px 8px; border-radius: 10px; background: #ddd; vertical-align: middle; }
  body[data-status="training"] #status { background: #cfe8ff; } body[data-status="done"] #status { background: #d4f5d4; }
  body[data-status="failed"] #status, body[data-status="stopped"] #status { background: #ffd6d6; }
  .charts { display: flex; flex-wrap: wrap; gap: 12px; }
  .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 6px; }
  progress { width: 320px; vertical-align: middle; }
  table { border-collapse: collapse; background: #fff; } td, th { padding: 3px 12px; border: 1px solid #e3e3e3; text-align: right; }
  th { text-align: left; font-weight: 500; } pre { background: #fff; border: 1px solid #ddd; padding: 8px; font-size: 12px; overflow: auto; }
</style>
</head>
<body data-status="waiting" data-batch-points="0" data-epochs="0">
<h1>rxkeras training <span id="status">waiting</span></h1>
<div><progress id="bar" max="1" value="0"></progress> <span id="progress"></span></div>
<h2>Last epoch</h2>
<table id="last-epoch"><tr><td>no epoch yet</td></tr></table>
<h2>Per epoch</h2>
<div class="charts" id="epoch-charts"></div>
<h2>Per batch</h2>
<div class="charts" id="batch-charts"></div>
<h2>Model</h2>
<pre id="summary">(pass the model to dashboard({ model }) to see its summary here)</pre>
<script src="/uPlot.iife.min.js"></script>
<script>
"use strict";
var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
var MAX_POINTS = 20000;
var run = { status: "waiting", batches: [], epochs: [], stride: 1 };
var charts = {};
var dirty = false;

function keysOf(list) {
  var seen = [];
  list.forEach(function (logs) { Object.keys(logs).forEach(function (k) { if (seen.indexOf(k) < 0) seen.push(k); }); });
  return seen;
}

function chart(container, id, title, labels, data) {
  var c = charts[id];
  if (c && c.labels.join() !== labels.join()) { c.plot.destroy(); c.card.remove(); c = undefined; }
  if (!c) {
    var card = document.createElement("div");
    card.className = "card"; card.id = id;
    document.getElementById(container).appendChild(card);
    var series = [{ label: container === "batch-charts" ? "step" : "epoch" }].concat(labels.map(function (l, i) {
      return { label: l, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: container === "epoch-charts" } };
    }));
    var opts = { title: title, width: 440, height: 230, series: series, scales: { x: { time: false } }, legend: { live: false } };
    if (container === "epoch-charts") opts.axes = [{ incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] }, {}];
    var plot = new uPlot(opts, data, card);
    c = charts[id] = { plot: plot, card: card, labels: labels };
  } else c.plot.setData(data);
  c.card.dataset.points = String(data[0].length);
}

function redraw() {
  dirty = false;
  document.body.dataset.status = run.status;
  document.getElementById("status").textContent = run.status + (run.error ? ": " + run.error : "");
  var b = run.batches;
  keysOf(b.map(function (p) { return p.logs; })).forEach(function (k) {
    chart("batch-charts", "batch-" + k, k + " (per batch)", [k], [b.map(function (p) { return p.step; }), b.map(function (p) { return p.logs[k]; })]);
  });
  var e = run.epochs;
  var keys = keysOf(e.map(function (x) { return x.logs; }));
  keys.filter(function (k) { return k.indexOf("val_") !== 0; }).forEach(function (k) {
    var labels = keys.indexOf("val_" + k) >= 0 ? [k, "val_" + k] : [k];
    chart("epoch-charts", "epoch-" + k, k + " (per epoch)", labels,
      [e.map(function (x) { return x.epoch + 1; })].concat(labels.map(function (l) { return e.map(function (x) { return x.logs[l]; }); })));
  });
  var table = document.getElementById("last-epoch");
  if (e.length > 0) {
    var last = e[e.length - 1];
    table.innerHTML = "";
    var head = table.insertRow(); head.insertCell().outerHTML = "<th>epoch</th>"; head.insertCell().textContent = String(last.epoch + 1);
    Object.keys(last.logs).forEach(function (k) {
      var row = table.insertRow();
      row.insertCell().outerHTML = "<th>" + k + "</th>";
      var cell = row.insertCell();
      var v = last.logs[k];
      cell.dataset.key = k; cell.dataset.value = String(v);
      cell.textContent = typeof v === "number" ? v.toPrecision(6) : "NaN";
    });
  }
  var p = run.params;
  if (p) {
    var span = p.epochs - p.initialEpoch;
    var epoch = run.epoch === undefined ? p.initialEpoch : run.epoch;
    var frac = run.batch === undefined || !p.steps ? 0 : (run.batch + 1) / p.steps;
    var done = run.status === "done" ? 1 : span > 0 ? (epoch - p.initialEpoch + frac) / span : 0;
    document.getElementById("bar").value = done;
    document.getElementById("progress").textContent = "epoch " + (epoch + 1) + " / " + p.epochs +
      (run.batch === undefined ? "" : ", batch " + (run.batch + 1) + (p.steps ? " / " + p.steps : ""));
  }
  if (run.summary) document.getElementById("summary").textContent = run.summary;
  document.body.dataset.batchPoints = String(b.length);
  document.body.dataset.epochs = String(e.length);
}

function schedule() { if (!dirty) { dirty = true; requestAnimationFrame(redraw); } }

var events = new EventSource("/events");
events.addEventListener("snapshot", function (m) {
  Object.keys(charts).forEach(function (id) { charts[id].plot.destroy(); charts[id].card.remove(); });
  charts = {};
  run = JSON.parse(m.data);
  schedule();
});
events.addEventListener("epochStart", function (m) { run.epoch = JSON.parse(m.data).epoch; run.batch = undefined; schedule(); });
events.addEventListener("batch", function (m) {
  var p = JSON.parse(m.data);
  run.epoch = p.epoch; run.batch = p.batch;
  run.batches.push(p);
  if (run.batches.length > MAX_POINTS) run.batches = run.batches.filter(function (_, i) { return i % 2 === 0; });
  schedule();
});
events.addEventListener("epoch", function (m) { run.epochs.push(JSON.parse(m.data)); schedule(); });
events.addEventListener("end", function (m) { var d = JSON.parse(m.data); run.status = d.status; run.error = d.error; schedule(); });
</script>
</body>
</html>
`;
