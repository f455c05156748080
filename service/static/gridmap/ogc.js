/* OGC API HTML pages: draw the page's features (its GeoJSON "self" link) on a small Leaflet map.
 * The element #gridmap-features carries data-url (GeoJSON), data-item (item page link with
 * {id}); no basemap, so it works with no internet. Depends on Leaflet only. */
(function () {
  "use strict";
  /* Text → HTML-safe text (Leaflet tooltips take HTML; ids and names are imported data). */
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  const box = document.getElementById("gridmap-features");
  if (!box || !window.L) return;
  const map = L.map(box, { attributionControl: false, scrollWheelZoom: false });
  L.control.scale().addTo(map);
  fetch(box.dataset.url, { headers: { Accept: "application/geo+json" } })
    .then((r) => {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    })
    .then((data) => {
      const layer = L.geoJSON(data, {
        style: { color: "#d7301f", weight: 2, fillColor: "#fc8d59", fillOpacity: 0.3 },
        pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 5 }),
        onEachFeature: (f, l) => {
          l.bindTooltip(esc(f.id));
          if (box.dataset.item) {
            l.on("click", () => {
              window.location.href = box.dataset.item.replace("{id}", encodeURIComponent(f.id)) + "?f=html";
            });
          }
        },
      }).addTo(map);
      const count = data.features ? data.features.length : 1;
      box.setAttribute("data-count", count);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [12, 12], maxZoom: 18 });
      else map.setView([0, 0], 1);
    })
    .catch((err) => {
      box.textContent = "Could not load the features: " + err.message;
    });
})();
