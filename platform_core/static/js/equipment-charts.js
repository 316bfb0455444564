// Equipment charts (Chart.js, vendored). Each <canvas data-chart="..."> carries its data as JSON, built by the
// page: no inline script (the Content-Security-Policy forbids it). The "kind" picks how it is drawn.
(function () {
  "use strict";

  function hhmm(minutes) {
    var m = ((Math.round(minutes) % 1440) + 1440) % 1440;
    return String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0");
  }

  var builders = {
    // a machine's states as floating bars on one row, x in minutes from the window start
    timeline: function (spec) {
      return {
        type: "bar",
        data: {
          labels: [""],
          datasets: spec.bars.map(function (bar) {
            return {
              label: bar.label,
              data: [[bar.from, bar.to]],
              backgroundColor: spec.colors[bar.state],
              borderSkipped: false,
              barPercentage: 1,
              categoryPercentage: 1,
            };
          }),
        },
        options: {
          indexAxis: "y",
          animation: false,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: function (ctx) {
                  var range = ctx.raw;
                  return ctx.dataset.label + " " + hhmm(spec.start_minute + range[0]) + "–" + hhmm(spec.start_minute + range[1]);
                },
              },
            },
          },
          scales: {
            x: {
              min: 0,
              max: spec.bars.length ? spec.bars[spec.bars.length - 1].to : 1440,
              ticks: { callback: function (value) { return hhmm(spec.start_minute + value); }, maxTicksLimit: 13 },
            },
            y: { stacked: true, grid: { display: false } },
          },
        },
      };
    },
    // a metric's rollups: average with its min-max band
    series: function (spec) {
      var labels = spec.points.map(function (p) { return p.t; });
      return {
        type: "line",
        data: {
          labels: labels,
          datasets: [
            { label: "max", data: spec.points.map(function (p) { return p.max; }), borderWidth: 0, pointRadius: 0, fill: "+1", backgroundColor: "rgba(21,101,192,.15)" },
            { label: "min", data: spec.points.map(function (p) { return p.min; }), borderWidth: 0, pointRadius: 0, fill: false },
            { label: "avg", data: spec.points.map(function (p) { return p.avg; }), borderColor: "#1565c0", borderWidth: 2, pointRadius: 0, fill: false },
          ],
        },
        options: { animation: false, plugins: { legend: { display: false } }, scales: { x: { ticks: { maxTicksLimit: 8 } } } },
      };
    },
    // down minutes per group (bars) with the cumulative share (line, right axis)
    pareto: function (spec) {
      return {
        type: "bar",
        data: {
          labels: spec.labels,
          datasets: [
            { label: spec.minutes_label, data: spec.minutes, backgroundColor: "#c62828", yAxisID: "y" },
            { type: "line", label: spec.cumulative_label, data: spec.cumulative, borderColor: "#17202a", yAxisID: "share", pointRadius: 3 },
          ],
        },
        options: {
          animation: false,
          scales: { y: { beginAtZero: true }, share: { position: "right", min: 0, max: 100, grid: { display: false } } },
        },
      };
    },
    // daily OEE, availability, performance, quality in percent
    trend: function (spec) {
      var colors = ["#17202a", "#2e7d32", "#1565c0", "#ef6c00"];
      return {
        type: "line",
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return { label: s.label, data: s.values, borderColor: colors[i], backgroundColor: colors[i], borderWidth: i === 0 ? 3 : 1.5, spanGaps: true };
          }),
        },
        options: { animation: false, scales: { y: { min: 0, suggestedMax: 100 } } },
      };
    },
    // planned production time broken down into the losses and the productive rest (floating bars)
    waterfall: function (spec) {
      var level = spec.total;
      var labels = [spec.total_label];
      var data = [[0, spec.total]];
      var colors = ["#1565c0"];
      spec.steps.forEach(function (step, i) {
        var last = i === spec.steps.length - 1;
        labels.push(step.label);
        if (last) {
          data.push([0, step.minutes]);
          colors.push("#2e7d32");
        } else {
          data.push([level - step.minutes, level]);
          colors.push(step.minutes >= 0 ? "#c62828" : "#9e9e9e");
          level -= step.minutes;
        }
      });
      return {
        type: "bar",
        data: { labels: labels, datasets: [{ data: data, backgroundColor: colors }] },
        options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      };
    },
  };

  function draw() {
    if (typeof Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var spec = JSON.parse(canvas.dataset.chart);
      var build = builders[spec.kind];
      if (!build) { return; }
      new Chart(canvas, build(spec));
      canvas.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
