// Shared page behaviour. No inline scripts anywhere: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests and fetch() calls from our pages carry the CSRF token like forms do.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  window.mes = {
    csrfToken: function () { return meta ? meta.content : ""; },
  };
})();
