// Inspector tablet: an on-screen numeric keypad, pass/fail shown while typing, and photos shrunk before upload.
// No inline scripts (CSP): the page marks inputs with classes and data-* attributes, this file does the rest.
(function () {
  "use strict";

  var active = null;

  function parse(text) {
    var cleaned = String(text || "").trim().replace("−", "-").replace("，", ".").replace(",", ".");
    if (cleaned === "" || cleaned === "-" || cleaned === ".") { return null; }
    var value = Number(cleaned);
    return isFinite(value) ? value : NaN;
  }

  function numberOr(attribute, fallback) {
    return attribute === null || attribute === undefined ? fallback : Number(attribute);
  }

  // One characteristic: "pass", "fail" or "" (not complete yet); marks each measured value on the way.
  function judge(fieldset) {
    var inputs = fieldset.querySelectorAll("input.q-value");
    if (fieldset.dataset.kind === "variable") {
      var low = numberOr(fieldset.dataset.lsl, -Infinity);
      var high = numberOr(fieldset.dataset.usl, Infinity);
      var filled = 0, bad = false;
      inputs.forEach(function (input) {
        var value = parse(input.value);
        input.classList.remove("q-ok", "q-bad");
        if (value === null) { return; }
        filled += 1;
        var ok = !isNaN(value) && value >= low && value <= high;
        input.classList.add(ok ? "q-ok" : "q-bad");
        if (!ok) { bad = true; }
      });
      if (bad) { return "fail"; }
      return filled === inputs.length ? "pass" : "";
    }
    var defectives = fieldset.querySelector("[data-role=defectives]");
    var count = defectives ? parse(defectives.value) : null;
    if (count === null || isNaN(count)) { return ""; }
    return count <= Number(fieldset.dataset.accept || 0) ? "pass" : "fail";
  }

  function refresh() {
    var overall = document.getElementById("q-overall");
    var states = [];
    document.querySelectorAll("fieldset.q-char").forEach(function (fieldset) {
      var state = judge(fieldset);
      states.push(state);
      var badge = fieldset.querySelector("[data-verdict]");
      if (badge && overall) {
        badge.className = "q-verdict " + (state === "pass" ? "q-pass" : state === "fail" ? "q-fail" : "q-open");
        badge.textContent = state ? overall.dataset[state] : "";
      }
    });
    if (!overall || !states.length) { return; }
    var state = states.indexOf("fail") >= 0 ? "fail" : (states.indexOf("") >= 0 ? "open" : "pass");
    overall.className = "q-overall q-overall-" + state;
    overall.textContent = overall.dataset[state];
  }

  function focusNext(from) {
    var all = Array.prototype.slice.call(document.querySelectorAll("input.q-value"));
    var next = all[all.indexOf(from) + 1];
    if (next) { next.focus(); next.select(); }
    else { var submit = document.querySelector(".q-submit"); if (submit) { submit.focus(); } }
  }

  function press(key) {
    if (!active) { return; }
    var text = active.value;
    if (key === "back") { text = text.slice(0, -1); }
    else if (key === "next") { focusNext(active); return; }
    else if (key === "−") { text = text.charAt(0) === "-" ? text.slice(1) : "-" + text; }
    else if (key === ".") { if (!active.classList.contains("q-int") && text.indexOf(".") < 0) { text += text ? "." : "0."; } }
    else { text += key; }
    active.value = text;
    refresh();
  }

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input.q-value")) { active = event.target; }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input.q-value")) { refresh(); }
  });
  document.querySelectorAll(".q-key").forEach(function (button) {
    // Keep the focus in the value being typed: the keypad must not steal it.
    button.addEventListener("pointerdown", function (event) { event.preventDefault(); });
    button.addEventListener("click", function () { press(button.dataset.key); });
  });

  // Photos: shrink large pictures in the browser (a tablet camera's 4 MB is far above the upload limit).
  document.querySelectorAll("input[type=file][data-max-side]").forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !/^image\//.test(file.type) || typeof DataTransfer === "undefined") { return; }
      var side = Number(input.dataset.maxSide) || 1600;
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () {
        var scale = Math.min(1, side / Math.max(image.width, image.height));
        if (scale === 1 && file.size < 1024 * 1024) { URL.revokeObjectURL(url); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(image.width * scale);
        canvas.height = Math.round(image.height * scale);
        canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          if (!blob) { return; }
          var name = file.name.replace(/\.[^.]+$/, "") + ".jpg";
          var transfer = new DataTransfer();
          transfer.items.add(new File([blob], name, { type: "image/jpeg" }));
          input.files = transfer.files;
        }, "image/jpeg", 0.85);
      };
      image.src = url;
    });
  });

  refresh();
  var first = document.querySelector("#inspect-form input.q-value");
  if (first && !first.value) { first.focus(); }
})();
