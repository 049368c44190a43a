/* Case maps (Leaflet, no tile layer: no tile server offline).
   [data-map="case"]: one case's point over its compound polygon.
   [data-map="live-cases"]: open cases in scope coloured by urgency, refreshed in place. */
(function () {
  "use strict";
  var COLOURS = { overdue: "#d64545", warned: "#f2994a", normal: "#2f80ed" };

  function baseMap(el, options) {
    return L.map(el, Object.assign({ zoomSnap: 0.25, attributionControl: false }, options || {}));
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store",
                        headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }

  function caseMap(el) {
    var holder = document.getElementById(el.dataset.shapeId);
    if (!holder) { return; }
    var data = JSON.parse(holder.textContent);
    var map = baseMap(el, { scrollWheelZoom: false });
    var shape = data.boundary ? L.geoJSON(data.boundary, {
      style: { color: "#52606d", weight: 2, fillColor: "#9aa5b1", fillOpacity: 0.3 } }) : null;
    var ll = data.point ? L.latLng(data.point[1], data.point[0]) : null;
    // Set the view first: vector layers need it before they are drawn.
    var bounds = shape ? shape.getBounds() : null;
    if (bounds && ll) { bounds.extend(ll); }
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16], maxZoom: 18 }); }
    else if (ll) { map.setView(ll, 17); }
    if (shape) { shape.addTo(map); }
    if (ll) {
      L.circleMarker(ll, { radius: 9, color: "#fff", weight: 2, fillColor: COLOURS[data.urgency] || COLOURS.normal,
                           fillOpacity: 1, className: "case-point" }).addTo(map);
    }
    el.setAttribute("data-ready", "1");
  }

  function liveMap(el) {
    var map = baseMap(el).setView([31.22, 121.54], 11);
    var layer = L.layerGroup().addTo(map);
    var fitted = false;
    var rounds = 0;
    var count = document.getElementById("live-count");
    function caseUrl(n) { return el.dataset.caseUrl.replace("__number__", encodeURIComponent(n)); }
    // The area's neighbourhood outlines frame the map; without them the first points do.
    var outlinesLoaded = el.dataset.outlinesUrl ? getJSON(el.dataset.outlinesUrl).then(function (fc) {
      var outlines = L.geoJSON(fc, { interactive: false,
        style: function () { return { color: "#52606d", weight: 1.2, dashArray: "4 3", fill: false }; } }).addTo(map);
      if (outlines.getBounds().isValid()) { map.fitBounds(outlines.getBounds(), { padding: [12, 12] }); fitted = true; }
    }).catch(function () { /* outlines are optional */ }) : Promise.resolve();
    function refresh() {
      getJSON(el.dataset.url).then(function (fc) {
        layer.clearLayers();
        var pts = [];
        fc.features.forEach(function (f) {
          var p = f.properties;
          var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          pts.push(ll);
          var m = L.circleMarker(ll, { radius: 7, color: "#fff", weight: 1.5,
                                       fillColor: COLOURS[p.urgency] || COLOURS.normal, fillOpacity: 0.95,
                                       className: "case-marker case-" + p.urgency });
          var tip = document.createElement("div");  // text nodes only: no markup from data
          tip.appendChild(document.createTextNode(p.number + " · " + p.state + (p.category ? " · " + p.category : "")));
          tip.appendChild(document.createElement("br"));
          tip.appendChild(document.createTextNode(p.description));
          m.bindTooltip(tip);
          m.on("click", function () { window.location.assign(caseUrl(p.number)); });
          layer.addLayer(m);
        });
        if (!fitted && pts.length) { map.fitBounds(L.latLngBounds(pts), { padding: [24, 24], maxZoom: 16 }); fitted = true; }
        rounds += 1;
        el.setAttribute("data-ready", String(fc.features.length));
        el.setAttribute("data-rounds", String(rounds));
        if (count) { count.textContent = fc.features.length + " " + (el.dataset.countLabel || ""); }
      }).catch(function (err) { el.setAttribute("data-error", String(err)); });
    }
    outlinesLoaded.then(refresh);
    var seconds = parseInt(el.dataset.refresh || "30", 10);
    window.setInterval(refresh, Math.max(seconds, 5) * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll('[data-map="case"]').forEach(caseMap);
    document.querySelectorAll('[data-map="live-cases"]').forEach(liveMap);
  });
})();
