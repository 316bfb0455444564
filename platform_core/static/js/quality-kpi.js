// Quality KPI charts: bars, and a Pareto (bars with a cumulative line on a 0-100 % axis). Data in data-chart.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var COLORS = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00"];

  document.querySelectorAll("canvas.q-kpi-chart[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.dataset.chart);
    if (!spec.labels.length) { canvas.hidden = true; return; }
    var datasets = spec.series.map(function (series, i) {
      var dataset = { label: series.label, data: series.data, backgroundColor: COLORS[i % COLORS.length], borderColor: COLORS[i % COLORS.length] };
      if (spec.kind === "pareto" && i === 1) {
        dataset.type = "line";
        dataset.yAxisID = "share";
        dataset.fill = false;
      }
      return dataset;
    });
    var scales = { y: { beginAtZero: true } };
    if (spec.unit === "%") { scales.y.max = 100; }
    if (spec.kind === "pareto") { scales.share = { position: "right", beginAtZero: true, max: 100, grid: { drawOnChartArea: false } }; }
    new Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: { animation: false, maintainAspectRatio: false, scales: scales, plugins: { legend: { position: "bottom" } } },
    });
    canvas.classList.add("q-chart-ready");
  });
})();
