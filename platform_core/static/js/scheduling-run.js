// Scheduling run pages: the small objective-over-time chart of a run's progress (redrawn after every htmx swap of
// the progress panel), and on the new-run page, ticking orders switches the choice to "only the ticked orders".
(function () {
  "use strict";

  function drawObjective() {
    var canvas = document.getElementById("objective-chart");
    if (!canvas || typeof Chart === "undefined") { return; }
    var points = JSON.parse(canvas.dataset.points || "[]");
    var wrap = canvas.parentNode;
    wrap.hidden = points.length === 0;
    if (!points.length) { return; }
    if (canvas.chart) { canvas.chart.destroy(); }
    var objective = points.map(function (p) { return { x: p[0], y: p[1] }; });
    var bound = points.filter(function (p) { return p[2] !== null; }).map(function (p) { return { x: p[0], y: p[2] }; });
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: canvas.dataset.labelObjective, data: objective, borderColor: "#1565c0", stepped: "before", pointRadius: 3 },
          { label: canvas.dataset.labelBound, data: bound, borderColor: "#9e9e9e", borderDash: [6, 4], stepped: "before", pointRadius: 0 },
        ],
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom" } },
        scales: { x: { type: "linear", title: { display: true, text: canvas.dataset.labelSeconds } } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", drawObjective);
  document.addEventListener("htmx:afterSwap", drawObjective);

  var picker = document.getElementById("order-picker");
  if (picker) {
    picker.addEventListener("change", function (event) {
      if (event.target.name === "order_ids") {
        var chosen = picker.querySelector("input[name=scope][value=chosen]");
        if (chosen) { chosen.checked = true; }
      }
    });
  }
})();
