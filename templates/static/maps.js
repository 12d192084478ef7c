/* The portal's maps (Leaflet, served from /static; no CDN). With no tile server configured the map
   draws only the wards' schematic (GET /api/v1/public/wards), labelled on the page as a diagram.
   data-points: [{name, lat, lon, open, km}]; data-lat/-lon: where the search is from;
   data-cells: {ward code: "covered" | "uncovered" | "candidate"} (the center's coverage map);
   a point's optional band: "good" | "fair" | "poor" | "none" (the center's performance map). */
(function () {
  "use strict";
  var form = document.getElementById("locator-form");
  if (form) {
    var lat = document.getElementById("lat"), lon = document.getElementById("lon");
    var status = document.getElementById("location-status"), button = document.getElementById("use-location");
    form.querySelectorAll("[data-clears-position]").forEach(function (input) {
      input.addEventListener("change", function () { lat.value = ""; lon.value = ""; });
    });
    if (button && navigator.geolocation) {
      button.hidden = false;
      button.addEventListener("click", function () {
        status.textContent = button.dataset.waiting || "…";
        navigator.geolocation.getCurrentPosition(function (pos) {
          lat.value = pos.coords.latitude.toFixed(5);
          lon.value = pos.coords.longitude.toFixed(5);
          form.submit();
        }, function () { status.textContent = button.dataset.refused || "✕"; }, { timeout: 10000 });
      });
    }
  }

  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var points = JSON.parse(el.dataset.points || "[]");
  var cells = JSON.parse(el.dataset.cells || "{}");
  var map = L.map(el, { scrollWheelZoom: false });
  // The view first: Leaflet cannot draw vector layers on a map without one.
  var hanoi = L.latLngBounds([20.56, 105.28], [21.39, 106.02]);
  var around = [];
  points.forEach(function (p) { around.push([p.lat, p.lon]); });
  if (el.dataset.lat) { around.push([+el.dataset.lat, +el.dataset.lon]); }
  var spread = around.length > 1 ? L.latLngBounds(around) : null;
  var onePlace = around.length === 1 || (spread && spread.getNorthEast().equals(spread.getSouthWest()));
  map.fitBounds(spread && !onePlace ? spread.pad(0.3) : hanoi);
  if (onePlace) { map.setView(around[0], 13); }  // all at one spot: a zoom that still shows the wards around
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution || "", maxZoom: 18 }).addTo(map);
  }
  var marks = L.layerGroup().addTo(map);
  // A point may carry a performance band (the center's dashboard): its on-time rate's colour.
  var bands = { good: "#1e7a3e", fair: "#f2a93b", poor: "#b3261e", none: "#8a94a0" };
  points.forEach(function (p) {
    L.circleMarker([p.lat, p.lon], {
      radius: 8, weight: 2, color: "#1d2733", fillColor: p.band ? bands[p.band] : (p.open ? "#1e7a3e" : "#8a94a0"),
      fillOpacity: 0.9
    }).bindTooltip(p.name + (p.km !== undefined ? " · " + p.km + " km" : "")).addTo(marks);
  });
  if (el.dataset.lat) {
    L.circleMarker([+el.dataset.lat, +el.dataset.lon], { radius: 7, color: "#b3261e", fillColor: "#fff", fillOpacity: 1, weight: 3 })
      .addTo(marks);
  }
  var fills = { covered: "#cfe8d6", uncovered: "#f6c9c5", candidate: "#f2a93b" };
  fetch("/api/v1/public/wards").then(function (r) { return r.json(); }).then(function (geo) {
    L.geoJSON(geo, {
      style: function (f) {
        var state = cells[f.properties.code];
        return { color: "#7b8794", weight: 1, fillColor: fills[state] || "#eef1f4", fillOpacity: state ? 0.75 : 0.5 };
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name, { sticky: true }); }
    }).addTo(map).bringToBack();
    el.dataset.ready = "1";
  }).catch(function () { el.dataset.ready = "1"; });
})();
