/* Jiayuan maps: our own polygons on a plain background (no tile layer: no tile server offline).
   [data-map="compounds"]: scope-filtered compounds coloured by type, neighbourhood outlines,
   a click opens the compound's page. [data-map="polygon"]: one compound's shape. */
(function () {
  "use strict";
  var COLOURS = {
    old_public: "#d64545", commodity: "#2f80ed", resettlement: "#f2994a",
    affordable: "#27ae60", urban_village: "#8e6cc4"
  };
  function colour(type) { return COLOURS[type] || "#7b8794"; }

  function baseMap(el, options) {
    return L.map(el, Object.assign({ zoomSnap: 0.25, attributionControl: false, preferCanvas: false }, options || {}));
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }

  function compoundsMap(el) {
    var map = baseMap(el);
    var labelsHolder = document.getElementById(el.dataset.typeLabelsId);
    var labels = labelsHolder ? JSON.parse(labelsHolder.textContent) : {};
    function pageUrl(code) { return el.dataset.compoundUrl.replace("__code__", encodeURIComponent(code)); }
    Promise.all([getJSON(el.dataset.neighbourhoodsUrl), getJSON(el.dataset.compoundsUrl)])
      .then(function (data) {
        var outlines = L.geoJSON(data[0], {
          interactive: false,
          style: function () { return { color: "#52606d", weight: 1.5, dashArray: "4 3", fill: false }; }
        }).addTo(map);
        var compounds = L.geoJSON(data[1], {
          style: function (f) {
            var c = colour(f.properties.compound_type);
            return { color: c, weight: 1, fillColor: c, fillOpacity: 0.55,
                     className: "compound compound-" + f.properties.code };
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            layer.bindTooltip(p.name + " · " + (labels[p.compound_type] || p.compound_type), { sticky: true });
            layer.on("click", function () { window.location.assign(pageUrl(p.code)); });
          }
        }).addTo(map);
        var bounds = compounds.getBounds();
        if (!bounds.isValid()) { bounds = outlines.getBounds(); }
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [12, 12] });
        } else {
          map.setView([31.22, 121.54], 11);
          el.setAttribute("data-empty", "1");
          el.title = el.dataset.emptyText || "";
        }
        el.setAttribute("data-ready", String(data[1].features.length));
      })
      .catch(function (err) { el.setAttribute("data-error", String(err)); });
  }

  function polygonMap(el) {
    var holder = document.getElementById(el.dataset.shapeId);
    if (!holder) { return; }
    var shape = JSON.parse(holder.textContent);
    var map = baseMap(el, { zoomControl: false, dragging: false, scrollWheelZoom: false,
                            doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false });
    var c = colour(shape.compound_type);
    var layer = L.geoJSON(shape.boundary, { style: { color: c, weight: 2, fillColor: c, fillOpacity: 0.45 } }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [16, 16] });
    el.setAttribute("data-ready", "1");
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll('[data-map="compounds"]').forEach(compoundsMap);
    document.querySelectorAll('[data-map="polygon"]').forEach(polygonMap);
  });
})();
