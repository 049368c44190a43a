/* The operations screen's live map (Leaflet, no tile layer: no tile server offline):
   neighbourhood outlines, devices coloured by health, active alarms on top; refreshed in
   place every data-refresh seconds from data-url (GeoJSON). */
(function () {
  "use strict";
  var COLOURS = { ok: "#27ae60", silent: "#7b8794", faulty: "#f2994a", never_heard: "#c3cfd9" };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }

  function text(lines) {  // text nodes only: no markup from data
    var div = document.createElement("div");
    lines.forEach(function (line, i) {
      if (i) { div.appendChild(document.createElement("br")); }
      div.appendChild(document.createTextNode(line));
    });
    return div;
  }

  function opsMap(el) {
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false }).setView([31.22, 121.54], 11);
    var deviceLayer = L.layerGroup().addTo(map);
    var alarmLayer = L.layerGroup().addTo(map);
    var labels = JSON.parse(el.dataset.labels || "{}");
    var count = document.getElementById("ops-map-count");
    var fitted = false, rounds = 0;
    var outlines = el.dataset.outlinesUrl ? getJSON(el.dataset.outlinesUrl).then(function (fc) {
      var layer = L.geoJSON(fc, { interactive: false,
        style: function () { return { color: "#52606d", weight: 1.2, dashArray: "4 3", fill: false }; } }).addTo(map);
      if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [12, 12] }); fitted = true; }
    }).catch(function () { /* outlines are optional */ }) : Promise.resolve();

    function refresh() {
      getJSON(el.dataset.url).then(function (fc) {
        deviceLayer.clearLayers();
        alarmLayer.clearLayers();
        var pts = [], alarms = 0;
        fc.features.forEach(function (f) {
          var p = f.properties, ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          pts.push(ll);
          if (p.layer === "alarm") {
            alarms += 1;
            L.circleMarker(ll, { radius: 10, color: "#fff", weight: 2, fillColor: "#d64545", fillOpacity: 1,
                                 className: "ops-alarm" })
              .bindTooltip(text([p.title + " · " + p.kind, p.device + " · " + p.severity + (p.case ? " · " + p.case : ""),
                                 p.raised_at.replace("T", " ").slice(0, 16)]))
              .addTo(alarmLayer);
          } else {
            L.circleMarker(ll, { radius: 5, color: "#fff", weight: 1, fillColor: COLOURS[p.status] || COLOURS.ok,
                                 fillOpacity: 0.9, className: "ops-device ops-" + p.status })
              .bindTooltip(text([p.code + " · " + p.kind, labels[p.status] || p.status,
                                 p.last_heard_at ? p.last_heard_at.replace("T", " ").slice(0, 16) : "—"]))
              .addTo(deviceLayer);
          }
        });
        if (!fitted && pts.length) { map.fitBounds(L.latLngBounds(pts), { padding: [24, 24], maxZoom: 16 }); fitted = true; }
        rounds += 1;
        el.setAttribute("data-ready", String(fc.features.length));
        el.setAttribute("data-alarms", String(alarms));
        el.setAttribute("data-rounds", String(rounds));
        if (count) { count.textContent = fc.devices_shown + " / " + fc.devices_total + " · " + alarms; }
      }).catch(function (err) { el.setAttribute("data-error", String(err)); });
    }
    outlines.then(refresh);
    var seconds = parseInt(el.dataset.refresh || "5", 10);
    window.setInterval(refresh, Math.max(seconds, 3) * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll('[data-map="ops"]').forEach(opsMap);
  });
})();
