// Swagger UI on the caller's own OpenAPI document (see crm_platform/web/apidocs.py).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var safe = { GET: true, HEAD: true, OPTIONS: true };
  window.ui = SwaggerUIBundle({
    url: root.dataset.documentUrl,
    domNode: root,
    deepLinking: true,
    // An org's document holds hundreds of operations (every kind, every object): tags
    // start closed and a filter box finds them; a tag opens on a click.
    docExpansion: "none",
    filter: true,
    presets: [SwaggerUIBundle.presets.apis],
    // The document and "Try it out" go with the session cookie (same origin); unsafe
    // methods also need the page's CSRF token. A token pasted in "Authorize" is sent
    // instead of the cookie (then the API ignores the session).
    requestInterceptor: function (req) {
      req.credentials = "same-origin";
      if (!safe[(req.method || "GET").toUpperCase()]) {
        req.headers["X-CSRFToken"] = csrf;
      }
      return req;
    },
  });
})();
