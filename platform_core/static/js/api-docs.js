// Starts Swagger UI on the product's own OpenAPI document (assets served locally, no CDN).
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: container.dataset.specUrl, domNode: container, deepLinking: true });
})();
