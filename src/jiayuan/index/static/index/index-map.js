/* Governance index map: compounds (registry GeoJSON, scoped) coloured by rank within type. */
(function () {
  "use strict";
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + " " + r.status); } return r.json(); });
  }
  // 0 = best of its type … 1 = worst: green → yellow → red
  function colour(pos) {
    if (pos === null || pos === undefined) { return "#9aa5b1"; }
    var stops = [[26, 152, 80], [254, 224, 139], [215, 48, 39]];
    var t = Math.max(0, Math.min(1, pos)) * 2, i = Math.min(1, Math.floor(t)), f = t - i;
    var c = stops[i].map(function (v, k) { return Math.round(v + (stops[i + 1][k] - v) * f); });
    return "rgb(" + c.join(",") + ")";
  }
  function indexMap(el) {
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    var holder = document.getElementById(el.dataset.typeLabelsId);
    var labels = holder ? JSON.parse(holder.textContent) : {};
    Promise.all([getJSON(el.dataset.compoundsUrl), getJSON(el.dataset.scoresUrl)]).then(function (d) {
      var scores = d[1].scores || {};
      var layer = L.geoJSON(d[0], {
        filter: function (f) { return Object.prototype.hasOwnProperty.call(scores, f.properties.code); },
        style: function (f) {
          var s = scores[f.properties.code], c = colour(s && s.total !== null ? s.position : null);
          return { color: "#3e4c59", weight: 0.6, fillColor: c, fillOpacity: 0.8 };
        },
        onEachFeature: function (f, lyr) {
          var p = f.properties, s = scores[p.code] || {};
          var text = p.name + " · " + (labels[p.compound_type] || p.compound_type) +
            (s.total !== null && s.total !== undefined ? " · " + s.total.toFixed(1) + " · " +
              el.dataset.rankText + " " + s.rank + "/" + s.of : "");
          lyr.bindTooltip(text, { sticky: true });
          lyr.on("click", function () { window.location.assign(el.dataset.compoundUrl.replace("{code}", encodeURIComponent(p.code))); });
        }
      }).addTo(map);
      var b = layer.getBounds();
      if (b.isValid()) { map.fitBounds(b, { padding: [12, 12] }); } else { map.setView([31.22, 121.54], 11); }
      el.setAttribute("data-ready", String(layer.getLayers().length));
    }).catch(function (err) { el.setAttribute("data-error", String(err)); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll("[data-index-map]").forEach(indexMap);
  });
})();
