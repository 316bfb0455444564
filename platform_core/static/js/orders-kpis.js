// KPI charts of the orders app (Chart.js, vendored); the data comes from the page's data-series attribute.
(function () {
  "use strict";
  var holder = document.getElementById("kpi-charts");
  if (!holder || typeof Chart === "undefined") { return; }
  var series = JSON.parse(holder.dataset.series);
  var common = { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } } };

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { canvas.chart = new Chart(canvas, config); }
  }

  chart("chart-output", {
    type: "bar",
    data: { labels: series.labels, datasets: [{ label: holder.dataset.labelOutput, data: series.output, backgroundColor: "#1565c0" }] },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
  });
  chart("chart-scrap", {
    type: "line",
    data: { labels: series.labels, datasets: [{ label: holder.dataset.labelScrap, data: series.scrap_rate, borderColor: "#c62828", spanGaps: true }] },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }),
  });
  chart("chart-orders", {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [
        { label: holder.dataset.labelOrders, data: series.orders, backgroundColor: "#2e7d32", yAxisID: "y" },
        { label: holder.dataset.labelLead, data: series.lead_time_h, type: "line", borderColor: "#ef6c00", yAxisID: "y1", spanGaps: true },
      ],
    },
    options: Object.assign({}, common, {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } },
    }),
  });
})();
