// Starts the vendored Swagger UI on /schema (see portal/api_reference.py).
// A file, not an inline script, so a strict Content-Security-Policy allows it.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");

  function cookie(name) {
    var prefix = name + "=";
    var found = document.cookie.split("; ").filter(function (row) { return row.indexOf(prefix) === 0; })[0];
    return found ? decodeURIComponent(found.slice(prefix.length)) : undefined;
  }

  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // no badge from an outside validator: the page makes no outside request
    // "Try it out" from a signed-in browser: the portal wants its CSRF token with a session cookie
    // (a partner system's bearer token needs none).
    requestInterceptor: function (request) {
      var token = cookie("csrftoken");
      if (token && !request.headers.Authorization) {
        request.headers["x-csrftoken"] = token;
      }
      return request;
    },
  });
})();
