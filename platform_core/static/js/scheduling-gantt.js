// Gantt chart of a schedule version (Chart.js floating bars on a linear time axis in epoch milliseconds, so a
// 20-minute operation is drawn exactly 20 minutes long). Data: the JSON endpoint named by #gantt-app's data-url.
// Rows are machines or orders; shading marks non-working time, hatched blocks maintenance and breakdowns, thin
// bars what really ran; a red line is now. Tapping an operation opens its details and, on drafts, the move form.
(function () {
  "use strict";
  var app = document.getElementById("gantt-app");
  if (!app || typeof Chart === "undefined") { return; }
  var L = app.dataset;
  var HOUR = 3600 * 1000;
  var ZOOMS = { hours: 4 * HOUR, shift: 8 * HOUR, day: 24 * HOUR, week: 7 * 24 * HOUR };
  var STEPS = { hours: HOUR / 2, shift: HOUR, day: 3 * HOUR, week: 24 * HOUR };
  var PALETTE = ["#1565c0", "#2e7d32", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#283593", "#558b2f", "#ad1457", "#00695c"];
  var state = { data: null, chart: null, zoom: "day", from: 0 };

  function fmt(ms, withDate) {
    var options = { timeZone: state.data.zone, hour: "2-digit", minute: "2-digit", hour12: false };
    if (withDate) { options.month = "2-digit"; options.day = "2-digit"; }
    return new Intl.DateTimeFormat(L.lang, options).format(new Date(ms));
  }

  function zoneOffset(ms) {
    // the factory's UTC offset at ``ms``, in milliseconds (positive east of Greenwich)
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: state.data.zone, year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric", hour12: false,
    }).formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = Number(p.value); });
    var asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
    return asUtc - Math.floor(ms / 1000) * 1000;
  }

  function alignedTicks(scale) {
    // ticks on whole hours (or days) of the factory's clock rather than at arbitrary milliseconds
    var step = STEPS[state.zoom], offset = zoneOffset(scale.min), ticks = [];
    for (var t = Math.ceil((scale.min + offset) / step) * step - offset; t <= scale.max; t += step) { ticks.push({ value: t }); }
    scale.ticks = ticks;
  }

  function localInput(ms) {
    // yyyy-mm-ddThh:mm in the factory's time zone, for the datetime-local field
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: state.data.zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
    }).formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
    var hour = parts.hour === "24" ? "00" : parts.hour;
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + hour + ":" + parts.minute;
  }

  function rows() {
    var d = state.data;
    if (L.view === "order") { return d.orders.map(function (o) { return { key: o.id, label: o.number, due: o.due, late: o.late }; }); }
    return d.machines.map(function (m) { return { key: m.id, label: m.code, name: m.name }; });
  }

  function rowOf(bar) { return L.view === "order" ? bar.order_id : bar.machine_id; }

  function colour(bar) { return PALETTE[bar.order_id % PALETTE.length]; }

  function datasets(rowList) {
    var d = state.data;
    var label = {};
    rowList.forEach(function (r) { label[r.key] = r.label; });
    var off = [], stops = [], setups = [], ops = [], done = [];
    if (L.view !== "order") {
      Object.keys(d.shading).forEach(function (machineId) {
        d.shading[machineId].forEach(function (s) {
          if (label[machineId]) { off.push({ x: [s[0], s[1]], y: label[machineId] }); }
        });
      });
      d.unavailable.forEach(function (u) {
        if (label[u.machine_id]) { stops.push({ x: [u.start, u.end], y: label[u.machine_id], stop: u }); }
      });
      d.actuals.forEach(function (a) {
        if (label[a.machine_id]) { done.push({ x: [a.start, a.end], y: label[a.machine_id], actual: a }); }
      });
    } else {
      var orderOf = {};
      d.bars.forEach(function (b) { orderOf[b.operation] = b.order_id; });
      d.actuals.forEach(function (a) {
        var row = label[orderOf[a.operation]];
        if (row) { done.push({ x: [a.start, a.end], y: row, actual: a }); }
      });
    }
    d.bars.forEach(function (b) {
      var row = label[rowOf(b)];
      if (!row) { return; }
      if (b.setup > 0) { setups.push({ x: [b.start - b.setup * 60000, b.start], y: row, bar: b }); }
      ops.push({ x: [b.start, b.end], y: row, bar: b });
    });
    var common = { grouped: false, borderSkipped: false, categoryPercentage: 1 };
    return [
      Object.assign({ label: "off", data: off, backgroundColor: "rgba(96,125,139,0.18)", barPercentage: 1, order: 5 }, common),
      Object.assign({
        label: "stops", data: stops, barPercentage: 0.95, order: 4,
        backgroundColor: function (c) { var s = c.raw && c.raw.stop; return s && s.kind === "maintenance" ? "rgba(239,108,0,0.55)" : "rgba(198,40,40,0.55)"; },
      }, common),
      Object.assign({ label: "setups", data: setups, backgroundColor: "#b0bec5", barPercentage: 0.6, order: 3 }, common),
      Object.assign({
        label: "ops", data: ops, barPercentage: 0.6, order: 2, borderWidth: function (c) { var b = c.raw && c.raw.bar; return b && (b.late || b.locked) ? 3 : 1; },
        backgroundColor: function (c) { var b = c.raw && c.raw.bar; if (!b) { return "#999"; } return b.frozen ? "#455a64" : colour(b); },
        borderColor: function (c) { var b = c.raw && c.raw.bar; if (!b) { return "#000"; } return b.late ? "#c62828" : (b.locked ? "#111" : "#fff"); },
      }, common),
      Object.assign({ label: "actuals", data: done, backgroundColor: "#fdd835", borderColor: "#795548", borderWidth: 1, barPercentage: 0.18, order: 1 }, common),
    ];
  }

  var nowLine = {
    id: "nowLine",
    afterDatasetsDraw: function (chart) {
      var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx, d = state.data;
      ctx.save();
      if (L.view === "order") {  // due dates as black ticks on each order's row
        var y = chart.scales.y;
        ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
        rows().forEach(function (r, i) {
          if (r.due === null || r.due < x.min || r.due > x.max) { return; }
          var px = x.getPixelForValue(r.due), py = y.getPixelForValue(i);
          ctx.beginPath(); ctx.moveTo(px, py - 12); ctx.lineTo(px, py + 12); ctx.stroke();
        });
      }
      if (d.now >= x.min && d.now <= x.max) {
        var px = x.getPixelForValue(d.now);
        ctx.strokeStyle = "#c62828"; ctx.lineWidth = 2;
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
      }
      ctx.restore();
    },
  };

  function tooltipLines(item) {
    var raw = item.raw;
    if (raw.bar) {
      var b = raw.bar, lines = [
        L.labelOrder + ": " + b.order + " · " + b.seq + " " + b.name,
        L.labelProduct + ": " + b.product + (b.product_name ? " " + b.product_name : ""),
        L.labelQuantity + ": " + b.quantity,
        L.labelDue + ": " + (b.due || L.labelNone),
        L.labelMachine + ": " + b.machine,
        fmt(b.start, true) + " – " + fmt(b.end, true),
      ];
      if (b.setup > 0) { lines.push(L.labelSetup + ": " + b.setup + " " + L.labelMinutes); }
      if (b.late) { lines.push(L.labelLate); }
      if (b.frozen) { lines.push(L.labelFrozen); }
      if (b.locked) { lines.push(L.labelLocked); }
      if (b.moved) { lines.push(L.labelMoved); }
      return lines;
    }
    if (raw.stop) {
      return [(raw.stop.kind === "maintenance" ? L.labelMaintenance : L.labelDown) + " " + (raw.stop.reference || ""),
        fmt(raw.x[0], true) + " – " + fmt(raw.x[1], true)];
    }
    if (raw.actual) {
      return [L.labelActual + ": " + raw.actual.order + (raw.actual.running ? " (" + L.labelRunning + ")" : ""),
        fmt(raw.x[0], true) + " – " + fmt(raw.x[1], true)];
    }
    return [];
  }

  function render() {
    var rowList = rows();
    var wrap = document.getElementById("gantt-wrap");
    wrap.style.height = Math.max(180, 56 + rowList.length * 40) + "px";
    var span = ZOOMS[state.zoom];
    var config = {
      type: "bar",
      data: { labels: rowList.map(function (r) { return r.label; }), datasets: datasets(rowList) },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        scales: {
          x: {
            type: "linear", position: "top", min: state.from, max: state.from + span,
            afterBuildTicks: alignedTicks,
            ticks: { callback: function (v) { return fmt(v, state.zoom === "week" || state.zoom === "day"); }, autoSkip: true, maxRotation: 0 },
          },
          y: { ticks: { autoSkip: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            filter: function (item) { return item.dataset.label !== "off"; },
            callbacks: { title: function () { return ""; }, label: tooltipLines },
          },
        },
        onClick: function (event) {
          // the operation bar under the finger, whatever shading or setup overlaps it (Chart.js's interaction
          // modes return only the nearest element, or search by index, and miss long bars)
          var bars = state.chart.getDatasetMeta(3).data;
          var index = bars.findIndex(function (bar) { return bar.inRange(event.x, event.y, true); });
          if (index >= 0) { openDetail(state.chart.data.datasets[3].data[index].bar); }
        },
      },
      plugins: [nowLine],
    };
    if (state.chart) { state.chart.destroy(); }
    state.chart = new Chart(document.getElementById("gantt-canvas"), config);
    fillTable(rowList);
  }

  function setWindow() {
    if (!state.chart) { return; }
    state.chart.options.scales.x.min = state.from;
    state.chart.options.scales.x.max = state.from + ZOOMS[state.zoom];
    state.chart.update();
  }

  function fact(list, term, value) {
    var dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = term; dd.textContent = value;
    list.appendChild(dt); list.appendChild(dd);
  }

  function openDetail(bar) {
    var panel = document.getElementById("gantt-detail");
    document.getElementById("detail-title").textContent = bar.order + " · " + bar.seq + " " + bar.name;
    var facts = document.getElementById("detail-facts");
    facts.textContent = "";
    fact(facts, L.labelProduct, bar.product + (bar.product_name ? " " + bar.product_name : ""));
    fact(facts, L.labelQuantity, String(bar.quantity));
    fact(facts, L.labelDue, bar.due || L.labelNone);
    fact(facts, L.labelMachine, bar.machine);
    fact(facts, L.labelTime, fmt(bar.start, true) + " – " + fmt(bar.end, true));
    if (bar.setup > 0) { fact(facts, L.labelSetup, bar.setup + " " + L.labelMinutes); }
    var marks = [];
    if (bar.frozen) { marks.push(L.labelFrozen); }
    if (bar.late) { marks.push(L.labelLate); }
    if (bar.locked) { marks.push(L.labelLocked); }
    if (bar.moved) { marks.push(L.labelMoved); }
    if (marks.length) { fact(facts, L.labelState, marks.join(" · ")); }
    var move = document.getElementById("move-form");
    if (move) {
      var editable = L.editable === "true" && !bar.frozen;
      move.hidden = !editable;
      move.action = move.dataset.action.replace("999999999", bar.slot);
      var select = move.querySelector("select[name=machine_id]");
      select.textContent = "";
      (state.data.eligible[String(bar.slot)] || []).forEach(function (m) {
        var option = document.createElement("option");
        option.value = m[0]; option.textContent = m[1] + " (" + m[2] + " " + L.labelMinutes + ")";
        option.selected = m[0] === bar.machine_id;
        select.appendChild(option);
      });
      move.querySelector("input[name=start]").value = localInput(bar.start);
      ["lock-form", "unlock-form"].forEach(function (id) {
        var form = document.getElementById(id);
        form.action = form.dataset.action.replace("999999999", bar.slot);
        form.hidden = !editable || (id === "lock-form" ? bar.locked : !bar.locked);
      });
    }
    panel.hidden = false;
    panel.dataset.slot = bar.slot;
    panel.scrollIntoView({ block: "nearest" });
  }

  function fillTable(rowList) {
    var holder = document.getElementById("gantt-rows");
    holder.textContent = "";
    var table = document.createElement("table");
    table.className = "table sch-slot-table";
    rowList.forEach(function (r) {
      var bars = state.data.bars.filter(function (b) { return rowOf(b) === r.key; }).sort(function (a, b) { return a.start - b.start; });
      if (!bars.length) { return; }
      var head = table.insertRow();
      head.className = "sch-row-head";
      var cell = head.insertCell(); cell.colSpan = 4; cell.textContent = r.label + (r.name ? " " + r.name : "");
      bars.forEach(function (b, i) {
        var row = table.insertRow();
        row.dataset.machine = b.machine; row.dataset.order = b.order; row.dataset.position = String(i + 1);
        if (b.late) { row.className = "sch-late-row"; }
        [String(i + 1), b.order + " · " + b.seq + " " + b.name, L.view === "order" ? b.machine : b.product,
          fmt(b.start, true) + " – " + fmt(b.end, true)].forEach(function (text) { row.insertCell().textContent = text; });
      });
    });
    holder.appendChild(table);
  }

  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var centre = state.from + ZOOMS[state.zoom] / 2;
      state.zoom = button.dataset.zoom;
      state.from = Math.max(state.data.start, centre - ZOOMS[state.zoom] / 2);
      setWindow();
    });
  });
  document.querySelectorAll("[data-pan]").forEach(function (button) {
    button.addEventListener("click", function () {
      var step = Number(button.dataset.pan);
      state.from = step === 0 ? state.data.now - ZOOMS[state.zoom] / 6 : state.from + step * ZOOMS[state.zoom] / 2;
      setWindow();
    });
  });
  var close = document.getElementById("detail-close");
  if (close) { close.addEventListener("click", function () { document.getElementById("gantt-detail").hidden = true; }); }

  fetch(L.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
    .then(function (data) {
      state.data = data;
      state.from = Math.max(data.start, Math.min(data.horizon_start, data.now) - HOUR);
      document.getElementById("gantt-loading").hidden = true;
      app.dataset.ready = "true";
      render();
    })
    .catch(function (error) { document.getElementById("gantt-loading").textContent = L.labelFailed + " (" + error.message + ")"; });
})();
