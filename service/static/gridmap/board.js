/* /board?f=html (晒单): the published orders from GET /board (GeoJSON, de-identified by the server)
 * on a Leaflet map and as a table. Every value is put into the page as text (textContent), never
 * as HTML. Depends on Leaflet only; no basemap tiles are needed. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("board-config").textContent);
  const t = config.texts;
  const status = document.getElementById("board-status");
  const body = document.getElementById("board-list");
  const box = document.getElementById("board-map");
  const map = window.L ? L.map(box, { attributionControl: false, scrollWheelZoom: false }) : null;
  if (map) {
    L.control.scale({ imperial: false }).addTo(map);
    map.setView([config.center[0], config.center[1]], 13);
  }

  /** How people name a grid: its community and 第N网格 (the code's sequence after the community's). */
  function place(p) {
    const community = p.community_name || p.community_code || "";
    const code = p.grid_code || "";
    const seq = code.startsWith(p.community_code || "\u0000") ? code.slice(p.community_code.length) : "";
    const grid = /^\d+$/.test(seq) ? t.grid.replace("{n}", String(Number(seq))).replace("{seq}", seq) : code;
    return (community + " " + grid).trim();
  }

  function stars(rating) {
    if (rating === null || rating === undefined || rating === "") return t.unrated;
    const n = Math.max(0, Math.min(5, Math.round(Number(rating))));
    return "★".repeat(n) + "☆".repeat(5 - n);
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function tooltip(p) {
    const div = document.createElement("div");
    const head = document.createElement("b");
    head.textContent = (config.categories[p.category] || p.category) + " · " + place(p);
    div.appendChild(head);
    const text = document.createElement("div");
    text.textContent = p.outcome || "";
    div.appendChild(text);
    return div;
  }

  fetch(config.dataUrl, { headers: { Accept: "application/geo+json" } })
    .then((r) => {
      if (!r.ok) throw new Error(t.failed + " (HTTP " + r.status + ")");
      return r.json();
    })
    .then((data) => {
      const features = data.features || [];
      const layer = map ? L.featureGroup().addTo(map) : null;
      for (const f of features) {
        const p = f.properties || {};
        const row = document.createElement("tr");
        row.dataset.orderId = f.id === undefined ? p.id : f.id;
        cell(row, config.categories[p.category] || p.category);
        cell(row, place(p));
        cell(row, p.submitted_on || "");
        cell(row, p.closed_on || p.published_on || "");
        const outcome = cell(row, p.outcome || "");
        for (const url of p.photos || []) {
          // Photos the community marked public (/board/photos/N, same site).
          if (!/^\/board\/photos\/\d+$/.test(url)) continue;
          const link = document.createElement("a");
          link.href = config.root + url;
          link.textContent = " [" + t.photo + "]";
          outcome.appendChild(link);
        }
        cell(row, stars(p.rating), "board-stars");
        body.appendChild(row);
        if (layer && f.geometry) {
          L.geoJSON(f, {
            pointToLayer: (_f, latlng) =>
              L.circleMarker(latlng, { radius: 7, color: "#fff", weight: 2, fillColor: "#b71c1c", fillOpacity: 0.85 }),
          })
            .bindTooltip(tooltip(p))
            .eachLayer((l) => layer.addLayer(l));
        }
      }
      if (layer && layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16, animate: false });
      status.textContent = features.length ? t.count.replace("{n}", features.length) : t.none;
      document.body.setAttribute("data-board-count", String(features.length));
    })
    .catch((err) => {
      status.textContent = err.message;
      document.body.setAttribute("data-board-error", "1");
    });
})();
