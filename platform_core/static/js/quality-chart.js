// Control charts: points, centre line, control and specification limits, zones A/B/C as bands, violating points
// marked with the rules they break. Data come from the chart's JSON endpoint (data-src); no inline scripts.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }

  var ZONES = [
    { from: 2, to: 3, color: "rgba(198, 40, 40, 0.08)" },   // A
    { from: 1, to: 2, color: "rgba(239, 108, 0, 0.08)" },   // B
    { from: -1, to: 1, color: "rgba(46, 125, 50, 0.08)" },  // C
    { from: -2, to: -1, color: "rgba(239, 108, 0, 0.08)" },
    { from: -3, to: -2, color: "rgba(198, 40, 40, 0.08)" },
  ];

  // Draws the zones of the primary chart behind the data (per point, since p and u limits vary).
  var zonePlugin = {
    id: "qualityZones",
    beforeDatasetsDraw: function (chart) {
      var zones = chart.options.plugins.qualityZones;
      if (!zones || !zones.points.length) { return; }
      var x = chart.scales.x, y = chart.scales.y, ctx = chart.ctx;
      var count = zones.points.length;
      ctx.save();
      zones.points.forEach(function (point, i) {
        if (point.center === null || point.sigma === null) { return; }
        var left = count === 1 ? chart.chartArea.left : x.getPixelForValue(i) - (i === 0 ? 0 : (x.getPixelForValue(i) - x.getPixelForValue(i - 1)) / 2);
        var right = count === 1 ? chart.chartArea.right : x.getPixelForValue(i) + (i === count - 1 ? 0 : (x.getPixelForValue(i + 1) - x.getPixelForValue(i)) / 2);
        ZONES.forEach(function (zone) {
          var top = y.getPixelForValue(point.center + zone.to * point.sigma);
          var bottom = y.getPixelForValue(point.center + zone.from * point.sigma);
          ctx.fillStyle = zone.color;
          ctx.fillRect(left, top, right - left, bottom - top);
        });
      });
      ctx.restore();
    },
  };

  function line(label, data, color, dash) {
    return { label: label, data: data, borderColor: color, borderWidth: 1.5, borderDash: dash || [], pointRadius: 0, stepped: "middle", fill: false };
  }

  function draw(canvas, payload) {
    var labels = JSON.parse(canvas.dataset.labels || "{}");
    var secondary = canvas.dataset.series === "secondary";
    var points = payload.points;
    if (!points.length) {
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = labels.none;
      canvas.replaceWith(note);
      return;
    }
    var decimals = (payload.chart.decimals || 3) + 1;
    var values = points.map(function (p) { return secondary ? p.secondary : p.value; });
    var flagged = points.map(function (p) { return secondary ? p.secondary_out : p.rules.length > 0; });
    var datasets = [{
      label: labels.value,
      data: values,
      borderColor: "#1565c0",
      backgroundColor: points.map(function (p, i) { return flagged[i] ? "#c62828" : (p.excluded ? "#9e9e9e" : "#1565c0"); }),
      pointRadius: points.map(function (p, i) { return flagged[i] ? 6 : 3; }),
      pointStyle: points.map(function (p, i) { return flagged[i] ? "rectRot" : "circle"; }),
      borderWidth: 2,
      spanGaps: true,
    }];
    var limits = payload.limits;
    if (limits) {
      if (secondary) {
        datasets.push(line(labels.center, points.map(function () { return limits.second_center; }), "#2e7d32"));
        datasets.push(line(labels.ucl, points.map(function () { return limits.second_ucl; }), "#c62828", [6, 4]));
        if (limits.second_lcl) { datasets.push(line(labels.lcl, points.map(function () { return limits.second_lcl; }), "#c62828", [6, 4])); }
      } else {
        datasets.push(line(labels.center, points.map(function (p) { return p.center; }), "#2e7d32"));
        datasets.push(line(labels.ucl, points.map(function (p) { return p.ucl; }), "#c62828", [6, 4]));
        datasets.push(line(labels.lcl, points.map(function (p) { return p.lcl; }), "#c62828", [6, 4]));
      }
    }
    if (!secondary && payload.chart.usl !== null && payload.chart.usl !== undefined && ["xbar_r", "xbar_s", "imr"].indexOf(payload.chart.type) >= 0) {
      datasets.push(line(labels.usl, points.map(function () { return payload.chart.usl; }), "#6a1b9a", [2, 3]));
    }
    if (!secondary && payload.chart.lsl !== null && payload.chart.lsl !== undefined && ["xbar_r", "xbar_s", "imr"].indexOf(payload.chart.type) >= 0) {
      datasets.push(line(labels.lsl, points.map(function () { return payload.chart.lsl; }), "#6a1b9a", [2, 3]));
    }
    var chart = new Chart(canvas, {
      type: "line",
      data: { labels: points.map(function (p, i) { return String(i + 1); }), datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { ticks: { callback: function (v) { return Number(v).toFixed(decimals); } } } },
        plugins: {
          legend: { position: "bottom" },
          qualityZones: secondary || !limits ? null : { points: points },
          tooltip: {
            callbacks: {
              title: function (items) {
                var p = points[items[0].dataIndex];
                return [p.inspection, p.lot ? labels.lot + " " + p.lot : "", new Date(p.at).toLocaleString()].filter(Boolean).join(" · ");
              },
              afterBody: function (items) {
                var p = points[items[0].dataIndex];
                var lines = [];
                if (!secondary && p.rules.length) { lines.push(labels.rule + " " + p.rules.join(", ")); }
                if (p.excluded) { lines.push(labels.excluded); }
                return lines;
              },
            },
          },
        },
      },
      plugins: [zonePlugin],
    });
    canvas.dataset.points = String(points.length);
    canvas.dataset.violations = String(flagged.filter(Boolean).length);
    canvas.classList.add("q-chart-ready");
    return chart;
  }

  document.querySelectorAll("canvas.q-chart[data-src]").forEach(function (canvas) {
    fetch(canvas.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (payload) { draw(canvas, payload); })
      .catch(function (status) { canvas.dataset.error = String(status); });
  });
})();
