// Shop-floor tablet pages of the orders app.
//
// Every action (start, pause, resume, report, complete, leave) is first written to a queue in localStorage, then
// sent to the API in order. Each queued action keeps the Idempotency-Key it was given when the operator tapped,
// for every retry: when the network drops the actions wait on the tablet (the page shows how many), and when it
// returns they are sent again with their original keys, so the server counts each exactly once even if an earlier
// attempt did arrive. Actions wait for the operator who took them: on a shared tablet another operator's session
// never sends them. An action leaves the queue only once the server has answered it for good: accepted, or
// refused on its merits (shown to the operator); a session the server no longer accepts keeps it for the next
// sign-in.
(function () {
  "use strict";
  var STORE = "mes.orders.queue.v1";
  var LAST_PLACE = "mes.orders.place";
  var floor = document.getElementById("floor");
  if (!floor) { return; }
  var api = floor.dataset.api;
  var user = floor.dataset.user;
  var flushing = false;
  var sending = null;  // the operation whose action is on its way
  var signInNeeded = false;  // the session or its CSRF token was refused: nothing is sent until a new sign-in
  var applied = new Set();  // queued actions already shown on the panel

  // --- the queue ----------------------------------------------------------------------------------------------

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(STORE, JSON.stringify(queue)); }
  function remove(key) { save(load().filter(function (item) { return item.key !== key; })); }
  function mine(queue) { return queue.filter(function (item) { return item.user === user; }); }

  function randomKey() {
    // crypto.getRandomValues works on plain-http factory networks too (randomUUID needs a secure context).
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "tablet:" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function submit(kind, operationId, path, body) {
    var item = { key: randomKey(), user: user, op: operationId, kind: kind, url: api + path, body: body,
                 at: new Date().toISOString() };
    var queue = load();
    queue.push(item);
    save(queue);  // kept before anything is sent: a reload or a crash loses nothing
    showPending();
    if (!navigator.onLine) {
      applyLocally(item);
      say(floor.dataset.msgQueued, "info");
      return;
    }
    flush();
  }

  function waitingFor(operationId) {
    return mine(load()).some(function (item) { return item.op === operationId; });
  }

  // What an answer means for the queued action that got it.
  function outcome(status) {
    if (status >= 200 && status < 300) { return "done"; }
    // 401: signed out. 400: the queue only sends well-formed JSON, so a 400 is the CSRF token of a session that
    // ended or changed; signing in again gives a new one.
    if (status === 401 || status === 400) { return "sign-in"; }
    if (status >= 500 || status === 408 || status === 429) { return "later"; }
    return "refused";  // 409 and 422 above all: the server judged the action itself, and resending cannot help
  }

  function post(item) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": window.mes.csrfToken(), "Idempotency-Key": item.key },
      body: JSON.stringify(item.body),
    });
  }

  // Send one queued action; what became of it, with the server's answer. It leaves the queue once answered for good.
  async function send(item) {
    var response;
    try {
      response = await post(item);
    } catch (networkError) {
      return { result: "offline" };
    }
    var result = outcome(response.status);
    var data = null;
    if (result === "done" || result === "refused") {
      try { data = await response.json(); } catch (e) { data = null; }
      remove(item.key);
      if (result === "done") { showAnswer(item, data); }
    }
    return { result: result, data: data, status: response.status };
  }

  async function flush() {
    if (signInNeeded) { say(floor.dataset.msgSignin, "error"); return; }
    if (flushing) { return; }
    flushing = true;
    var sent = 0;
    var last = null;
    var refusals = [];
    try {
      for (;;) {
        var item = mine(load())[0];
        if (!item) { break; }
        if (!navigator.onLine) { showOffline(true); break; }
        var answer;
        busy(item.op, true);
        try { answer = await send(item); } finally { busy(item.op, false); }
        if (answer.result === "offline") {
          // The request may or may not have arrived; the same key makes the retry safe either way.
          showOffline(true);
          applyLocally(item);
          say(floor.dataset.msgQueued, "info");
          break;
        }
        showOffline(false);
        if (answer.result === "later") { break; }
        if (answer.result === "sign-in") { signInNeeded = true; break; }
        sent += 1;
        if (answer.result === "done") {
          last = { item: item, data: answer.data };
        } else {
          refusals.push({ item: item, data: answer.data, status: answer.status });
        }
      }
    } finally {
      flushing = false;
      showPending();
    }
    // A refusal outlasts the "sent" of the actions after it: the operator must see what did not go through.
    if (signInNeeded) {
      say(floor.dataset.msgSignin, "error");
    } else if (refusals.length) {
      refused(refusals);
    } else if (last) {
      done(last.item, last.data);
    }
    if (sent) { refresh(); }
  }

  // --- what the operator sees --------------------------------------------------------------------------------

  function say(text, kind, extra) {
    var box = document.getElementById("floor-message");
    if (!box || !text) { return; }
    box.textContent = text;
    box.className = "ord-message ord-message-" + (kind || "info");
    if (extra) { box.appendChild(extra); }
    box.hidden = false;
  }

  function showPending() {
    var queue = load();
    var count = mine(queue).length;
    var others = queue.length - count;
    var badge = document.getElementById("pending");
    var counter = document.getElementById("pending-count");
    if (badge && counter) {
      counter.textContent = String(count);
      badge.hidden = count === 0;
    }
    if (others && !count && floor.dataset.msgOthers) { say(floor.dataset.msgOthers, "info"); }
  }

  function showOffline(offline) {
    var note = document.getElementById("offline");
    if (note) { note.hidden = !offline; }
  }

  function refresh() {
    document.body.dispatchEvent(new Event("ord-refresh"));
  }

  function done(item, data) {
    if (data && data.status === "pending_approval") {
      say(floor.dataset.msgApprovalSent, "info");
    } else {
      say(floor.dataset.msgSent, "success");
    }
  }

  function askApproval(item) {
    var ask = document.createElement("button");
    ask.type = "button";
    ask.className = "button primary";
    ask.id = "ask-approval";
    ask.textContent = floor.dataset.msgApproval;
    ask.addEventListener("click", function () {
      ask.disabled = true;  // one request for approval, however often it is tapped
      var body = Object.assign({}, item.body, { request_approval: true });
      submit("report", item.op, "/operations/" + item.op + "/report", body);
    });
    return ask;
  }

  function refused(refusals) {
    var messages = refusals.map(function (r) { return (r.data && r.data.message) || ("HTTP " + r.status); });
    var over = refusals.filter(function (r) {
      return r.data && r.data.code === "over_tolerance" && r.item.kind === "report";
    });
    var buttons = document.createDocumentFragment();
    over.forEach(function (r, index) {
      var ask = askApproval(r.item);
      if (index > 0) { ask.removeAttribute("id"); }
      buttons.appendChild(ask);
    });
    say(messages.join(" ") + " ", "error", over.length ? buttons : null);
  }

  // --- the operation panel -----------------------------------------------------------------------------------

  function panel() { return document.getElementById("op-panel"); }

  function loadedAt(node) {
    if (!node.dataset.loadedAt) { node.dataset.loadedAt = String(Date.now()); }
    return Number(node.dataset.loadedAt);
  }

  // Seconds as the server counted them when the panel was drawn, plus what the tablet has seen pass since:
  // no device clock is ever compared with the server's.
  function seconds(node) {
    var since = (Date.now() - loadedAt(node)) / 1000;
    var running = Number(node.dataset.runningS);
    var paused = Number(node.dataset.pausedS);
    if (node.dataset.status === "running") { running += since; }
    if (node.dataset.status === "paused") { paused += since; }
    return { running: running, paused: paused };
  }

  function clock(total) {
    total = Math.max(0, Math.floor(total));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function sync(node) {
    var status = node.dataset.status;
    var onCrew = node.dataset.onCrew === "true";
    var open = node.dataset.orderOpen === "true";
    var ready = node.dataset.ready === "true";
    var started = status === "running" || status === "paused";
    var rules = {
      "pending": status === "pending" && ready && open,
      "running-off-crew": status === "running" && !onCrew && open,
      "running": status === "running",
      "paused": status === "paused",
      "started": started,
      "on-crew": onCrew && started,
    };
    node.querySelectorAll("[data-when]").forEach(function (button) {
      button.hidden = !rules[button.dataset.when];
    });
    var label = floor.dataset["status" + status.charAt(0).toUpperCase() + status.slice(1)];
    var badge = node.querySelector("#op-status");
    if (badge && label) { badge.textContent = label; }
    node.className = node.className.replace(/ord-op-\w+/, "ord-op-" + status);
  }

  function tick() {
    var node = panel();
    if (!node) { return; }
    var time = seconds(node);
    var running = node.querySelector("#clock-running");
    var paused = node.querySelector("#clock-paused");
    if (running) { running.textContent = clock(time.running); }
    if (paused) { paused.textContent = clock(time.paused); }
    if (!node.dataset.synced) { node.dataset.synced = "1"; sync(node); }
  }

  // While an action of the operation on the panel is on its way, its buttons wait: a second tap on a button
  // whose action the server has not answered yet would only earn a refusal.
  function busy(operationId, on) {
    sending = on ? operationId : null;
    var node = panel();
    if (!node || Number(node.dataset.operation) !== operationId) { return; }
    node.querySelectorAll(".ord-action").forEach(function (button) { button.disabled = on; });
  }

  // The server's answer redraws the panel's buttons at once, before the refreshed panel arrives.
  function showAnswer(item, data) {
    var node = panel();
    var state = data && (data.operation || data);
    if (!node || !state || state.id !== item.op || Number(node.dataset.operation) !== item.op) { return; }
    node.dataset.status = state.status;
    node.dataset.version = String(state.version);
    node.dataset.runningS = String(state.running_s);
    node.dataset.pausedS = String(state.paused_s);
    node.dataset.loadedAt = String(Date.now());
    if (item.kind === "start" || item.kind === "join" || item.kind === "resume") { node.dataset.onCrew = "true"; }
    if (item.kind === "leave" || item.kind === "complete") { node.dataset.onCrew = "false"; }
    sync(node);
  }

  function setStatus(node, status) {
    var time = seconds(node);
    node.dataset.runningS = String(Math.floor(time.running));
    node.dataset.pausedS = String(Math.floor(time.paused));
    node.dataset.loadedAt = String(Date.now());
    node.dataset.status = status;
  }

  // While the network is down, show the operator what the queued action will do once it arrives.
  function applyLocally(item) {
    var node = panel();
    if (!node || Number(node.dataset.operation) !== item.op || applied.has(item.key)) { return; }
    applied.add(item.key);
    if (item.kind === "start" || item.kind === "resume") { setStatus(node, "running"); }
    if (item.kind === "start" || item.kind === "join") { node.dataset.onCrew = "true"; }
    if (item.kind === "pause") { setStatus(node, "paused"); }
    if (item.kind === "complete") { setStatus(node, "completed"); }
    if (item.kind === "leave") { node.dataset.onCrew = "false"; }
    if (item.kind === "report") {
      ["good", "scrap", "rework"].forEach(function (name) {
        var total = Number(node.dataset[name]) + (item.body[name] || 0);
        node.dataset[name] = String(total);
        var cell = node.querySelector("#qty-" + name);
        if (cell) { cell.textContent = String(total); cell.classList.add("ord-unsent"); }
      });
    }
    sync(node);
  }

  function transition(kind, extra) {
    var node = panel();
    var operationId = Number(node.dataset.operation);
    var body = Object.assign({}, extra || {});
    // The version the operator saw guards against another tablet's change; an action taken on top of actions
    // still waiting here has not seen the version they will produce, so it relies on the server's state rules.
    if (navigator.onLine && !waitingFor(operationId)) { body.version = Number(node.dataset.version); }
    var path = "/operations/" + operationId + "/" + (kind === "join" ? "start" : kind);
    submit(kind, operationId, path, body);
  }

  function open(id) {
    var dialog = document.getElementById(id);
    if (dialog && !dialog.open) { dialog.showModal(); }
    return dialog;
  }

  function close(dialog) { if (dialog && dialog.open) { dialog.close(); } }

  function number(id) {
    var value = document.getElementById(id).value.trim();
    return value === "" ? 0 : Math.max(0, parseInt(value, 10) || 0);
  }

  function checked(name) {
    var input = document.querySelector("input[name=" + name + "]:checked");
    return input ? Number(input.value) : null;
  }

  function sendReport(event) {
    event.preventDefault();
    var problem = document.getElementById("report-problem");
    var body = { good: number("report-good"), scrap: number("report-scrap"), rework: number("report-rework") };
    problem.hidden = true;
    if (body.good + body.scrap + body.rework === 0) {
      problem.textContent = floor.dataset.msgNothing; problem.hidden = false; return;
    }
    var scrapReason = checked("scrap_reason_id");
    if (body.scrap > 0 && scrapReason === null) {
      problem.textContent = floor.dataset.msgScrapReason; problem.hidden = false; return;
    }
    if (scrapReason !== null && body.scrap > 0) { body.scrap_reason_id = scrapReason; }
    var reworkReason = checked("rework_reason_id");
    if (reworkReason !== null && body.rework > 0) { body.rework_reason_id = reworkReason; }
    var lot = document.getElementById("report-lot").value.trim();
    if (lot) { body.output_lot = lot; }
    body.consumed_lots = document.getElementById("report-consumed").value.split(/[,，;；\s]+/)
      .map(function (x) { return x.trim(); }).filter(Boolean);
    body.recorded_at = new Date().toISOString();
    var operationId = Number(panel().dataset.operation);
    submit("report", operationId, "/operations/" + operationId + "/report", body);
    event.target.reset();
    close(document.getElementById("report-dialog"));
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("button");
    if (!target) { return; }
    if (target.hasAttribute("data-close")) { close(target.closest("dialog")); return; }
    if (target.dataset.reason) {
      close(target.closest("dialog"));
      transition("pause", { reason_id: Number(target.dataset.reason) });
      return;
    }
    if (target.id === "complete-confirm") {
      close(target.closest("dialog"));
      transition("complete");
      return;
    }
    var action = target.dataset.action;
    if (!action || !target.classList.contains("ord-action")) { return; }
    if (action === "pause") { open("pause-dialog"); return; }
    if (action === "report") { open("report-dialog"); document.getElementById("report-good").focus(); return; }
    if (action === "complete") { open("complete-dialog"); return; }
    if (action === "start") { transition("start", { machine_id: Number(target.dataset.machine) }); return; }
    transition(action);
  });

  var form = document.getElementById("report-form");
  if (form) { form.addEventListener("submit", sendReport); }

  // Nothing is polled while the tablet is offline (a poll that cannot succeed would only log an error).
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (!navigator.onLine) { event.preventDefault(); }
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    var node = panel();
    if (!node) { return; }
    sync(node);
    if (sending !== null) { busy(sending, true); }  // a panel redrawn while an action is on its way waits too
  });

  // A dispatch list remembers itself as this tablet's place; the machine picker marks it.
  if (floor.dataset.remember) { localStorage.setItem(LAST_PLACE, floor.dataset.remember); }
  var last = localStorage.getItem(LAST_PLACE);
  if (last) {
    document.querySelectorAll(".ord-place").forEach(function (tile) {
      if (tile.getAttribute("href") === last) { tile.classList.add("ord-last"); }
    });
  }

  window.addEventListener("online", function () { showOffline(false); flush(); });
  window.addEventListener("offline", function () { showOffline(true); });
  setInterval(function () { if (mine(load()).length && navigator.onLine) { flush(); } }, 5000);
  setInterval(tick, 1000);
  tick();
  showPending();
  showOffline(!navigator.onLine);
  if (!navigator.onLine) { mine(load()).forEach(applyLocally); }  // reloaded while offline: show what waits
  if (mine(load()).length) { flush(); }
})();
