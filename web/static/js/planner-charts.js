/* Band charts of the planner's results with the vendored uPlot: per scenario the median as a
   line and the p5–p95 band filled between two invisible lines; the market's real figures, when
   asked for, as points. Data come from a <script type="application/json"> next to each chart;
   the same numbers are in the data table beneath it. No network, no eval. */
(function () {
  "use strict";
  var COLOURS = ["#0b5a3c", "#a4460b", "#0a4f8f", "#6b2c91", "#7a6500", "#a4001d", "#2f4f4f", "#555"];

  function fill(hex) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + ",0.18)";
  }

  function build(holder) {
    var spec = JSON.parse(document.getElementById(holder.dataset.chart).textContent);
    var data = [spec.days];
    var series = [{ label: spec.dayLabel }];
    var bands = [];
    spec.series.forEach(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      var base = data.length;
      data.push(s.p95, s.median, s.p5);
      series.push(
        { label: s.name + " p95", stroke: colour, width: 0, points: { show: false } },
        { label: s.name, stroke: colour, width: 2, points: { show: false } },
        { label: s.name + " p5", stroke: colour, width: 0, points: { show: false } }
      );
      bands.push({ series: [base, base + 2], fill: fill(colour) });
    });
    var observed = spec.observed || {};
    if (Object.keys(observed).length) {
      data.push(spec.days.map(function (d) { return d in observed ? observed[d] : null; }));
      series.push({
        label: spec.observedLabel, stroke: "#000", width: 0,
        points: { show: true, size: 6, fill: "#000" }, paths: function () { return null; }
      });
    }
    var width = Math.max(280, holder.clientWidth || 640);
    var options = {
      width: width, height: 260, series: series, bands: bands,
      scales: { x: { time: false } },
      axes: [{ label: spec.dayLabel }, { label: spec.unit, size: 50 }],
      legend: { live: false }
    };
    holder.textContent = "";
    holder.chart = new uPlot(options, data, holder);
    // the band's edges are drawn as the shaded area: the legend names only the medians
    var rows = holder.querySelectorAll(".u-legend .u-series");
    var offset = rows.length === series.length ? 0 : 1;  // whether the x series has a row
    rows.forEach(function (row, i) {
      var index = i + offset;
      if (index > 0 && index <= spec.series.length * 3 && index % 3 !== 2) {
        row.style.display = "none";
      }
    });
    holder.dataset.drawn = "true";
  }

  function drawAll() {
    if (typeof uPlot === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (holder) {
      if (holder.dataset.drawn !== "true") { build(holder); }
    });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
})();
