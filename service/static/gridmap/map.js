/* gridmap map pages: load GeoJSON layers from the app (no inlined data), style, label, look up.
 * Used by the pages built in service/maps.py; depends on Leaflet only.
 *
 * Labels: each label has a priority (label_r, the room its polygon gives it, in metres); at every
 * zoom or pan the labels are placed largest room first and a label that would overlap one already
 * placed, or that is much wider than its polygon's room, is hidden (visibility, so its size stays
 * measurable) until zooming in gives it space. */
(function () {
  "use strict";

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(
      /[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]
    );
  }

  function classColor(value, breaks, colors) {
    if (value === null || value === undefined) return "#cccccc";
    let i = 0;
    while (i < breaks.length && value >= breaks[i]) i++;
    return colors[i];
  }

  function staffHtml(staff, spec) {
    return staff
      .map((s) => esc(s.name) + " (" + esc(spec.roles[s.role] || s.role) + ")")
      .join("<br>");
  }

  function tooltipHtml(props, spec) {
    let rows = "";
    for (const [key, label] of spec.fields) {
      if (props[key] === null || props[key] === undefined) continue;
      rows += "<tr><th>" + esc(label) + "</th><td>" + esc(props[key]) + "</td></tr>";
    }
    if (props.staff && props.staff.length) {
      rows += "<tr><th>" + esc(spec.staffLabel) + "</th><td>" + staffHtml(props.staff, spec) + "</td></tr>";
    }
    return '<table class="gridmap-tip">' + rows + "</table>";
  }

  function ensurePane(map, name, zIndex, interactive) {
    if (!name || map.getPane(name)) return;
    const pane = map.createPane(name);
    pane.style.zIndex = zIndex;
    // A pane of non-interactive layers lets clicks and hovers through to the layers beneath.
    if (interactive === false) pane.style.pointerEvents = "none";
  }

  function showError(map, message) {
    const box = L.DomUtil.create("div", "gridmap-error", map.getContainer());
    box.textContent = message;
  }

  function labelText(value, format) {
    const text = value === null || value === undefined ? "" : String(value);
    if (!format) return text;
    return /^\d+$/.test(text) ? format.replace("{n}", String(Number(text))).replace("{seq}", text) : text;
  }

  function addLabel(labels, props, spec) {
    if (props.label_lat === undefined || props.label_lat === null) return;
    const text = labelText(props[spec.labelKey], spec.labelFormat);
    if (!text) return;
    // The marker is a point; the text inside is centred on it (Leaflet's own transform positions
    // the marker, so the centring is on the inner span).
    const html = '<span class="gridmap-label-text">' + esc(text) + "</span>";
    const icon = L.divIcon({ className: "gridmap-label", html: html, iconSize: [0, 0] });
    const marker = L.marker([props.label_lat, props.label_lon], { icon: icon, interactive: false });
    marker.gridmapRoom = props.label_r || 0;
    labels.addLayer(marker);
  }

  const EARTH_M = 40075016.686;

  /** Show the labels of `labels` that fit: largest room first, none overlapping another. */
  function declutter(map, labels) {
    if (!map.hasLayer(labels)) return;
    const zoom = map.getZoom();
    const placed = [];
    const markers = labels.getLayers().slice().sort((a, b) => b.gridmapRoom - a.gridmapRoom);
    let shown = 0;
    for (const marker of markers) {
      const el = marker.getElement();
      if (!el) continue;
      const ll = marker.getLatLng();
      const p = map.latLngToContainerPoint(ll);
      const text = el.firstChild || el;
      const w = text.offsetWidth, h = text.offsetHeight;
      const box = { x0: p.x - w / 2 - 2, x1: p.x + w / 2 + 2, y0: p.y - h / 2 - 1, y1: p.y + h / 2 + 1 };
      const metresPerPixel = (EARTH_M * Math.cos((ll.lat * Math.PI) / 180)) / Math.pow(2, zoom + 8);
      const roomPx = marker.gridmapRoom / metresPerPixel;
      // A polygon label needs room: its inscribed circle at least ~70 % of the label's width.
      const fits = marker.gridmapRoom <= 0 || 2 * roomPx >= 0.7 * w;
      const free = placed.every((o) => box.x1 <= o.x0 || o.x1 <= box.x0 || box.y1 <= o.y0 || o.y1 <= box.y0);
      const visible = fits && free;
      el.style.visibility = visible ? "visible" : "hidden";
      el.classList.toggle("gridmap-label-hidden", !visible);
      if (visible) {
        placed.push(box);
        shown++;
      }
    }
    map.getContainer().setAttribute("data-labels-shown", shown);
  }

  function watchLabels(map, labels) {
    if (labels.gridmapWatched) return;
    labels.gridmapWatched = true;
    const run = () => declutter(map, labels);
    map.on("zoomend moveend resize overlayadd", run);
    labels.on("add", run);
  }

  function onFeature(feature, layer, spec, labels) {
    if (spec.interactive === false) return;
    layer.bindTooltip(tooltipHtml(feature.properties, spec), { sticky: true });
    if (spec.link) {
      layer.on("click", function () {
        window.location.href = spec.link.replace("{id}", encodeURIComponent(feature.id)) + window.location.search;
      });
    }
    if (labels && spec.labelKey) addLabel(labels, feature.properties, spec);
  }

  function afterPaint(callback) {
    requestAnimationFrame(() => requestAnimationFrame(callback));
  }

  /** Fetch spec.url and add its features to `group` (a layer already on the map or in a control). */
  window.gridmapLoad = function (group, map, spec, labels) {
    const started = performance.now();
    ensurePane(map, spec.pane, spec.zIndex || 410, spec.interactive);
    // Dense layers (thousands of buildings) draw on one canvas instead of one SVG path each.
    const renderer = spec.canvas ? L.canvas({ pane: spec.pane }) : undefined;
    const style = (f) =>
      Object.assign(
        {
          color: spec.stroke,
          weight: spec.weight,
          fillOpacity: spec.fillOpacity,
          fillColor: spec.colorBy ? classColor(f.properties[spec.colorBy], spec.breaks, spec.colors) : spec.fill,
          fill: spec.filled !== false,
          dashArray: spec.dash || null,
        },
        spec.styleKey && spec.styles ? spec.styles[f.properties[spec.styleKey]] || {} : {}
      );
    const options = { pane: spec.pane, interactive: spec.interactive !== false };
    if (renderer) options.renderer = renderer;
    fetch(spec.url, { headers: { Accept: "application/geo+json" } })
      .then((r) => {
        if (!r.ok) throw new Error(spec.url + ": HTTP " + r.status);
        return r.json();
      })
      .then((data) => {
        const fetched = performance.now();
        L.geoJSON(
          data,
          Object.assign({}, options, {
            style: style,
            pointToLayer: (f, latlng) =>
              L.circleMarker(latlng, Object.assign({ radius: spec.canvas ? 2 : 4 }, options, style(f))),
            onEachFeature: (f, layer) => onFeature(f, layer, spec, labels),
          })
        ).eachLayer((layer) => group.addLayer(layer));
        const container = map.getContainer();
        container.setAttribute("data-" + spec.key + "-count", data.features.length);
        if (labels) {
          watchLabels(map, labels);
          declutter(map, labels);
        }
        // Time to first draw of this layer (ms since navigation), for bench/map_first_draw.py:
        // the second animation frame after adding it comes once the first has been painted.
        afterPaint(() => {
          container.setAttribute("data-" + spec.key + "-drawn", Math.round(performance.now()));
          container.setAttribute("data-" + spec.key + "-ms", Math.round(performance.now() - started));
          container.setAttribute("data-" + spec.key + "-draw-ms", Math.round(performance.now() - fetched));
        });
      })
      .catch((err) => showError(map, spec.errorLabel + ": " + err.message));
  };

  /** The legend as a Leaflet control, bottom left: stacked above the scale bar, never under it. */
  window.gridmapLegend = function (map, html) {
    const control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      const box = L.DomUtil.create("div", "gridmap-legend");
      box.innerHTML = html;
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    control.addTo(map);
  };

  /** On map click, ask the lookup endpoint which community and grid contain the point. */
  window.gridmapLookup = function (map, spec) {
    map.on("click", function (e) {
      const url = spec.url + "?lon=" + e.latlng.lng + "&lat=" + e.latlng.lat + "&offset=" + spec.offset;
      fetch(url)
        .then((r) => r.json().then((body) => ({ ok: r.ok, body: body })))
        .then(({ ok, body }) => {
          let html;
          if (!ok) {
            html = esc(body.detail || spec.labels.none);
          } else {
            const c = body.community.properties;
            html = "<b>" + esc(spec.labels.community) + "</b> " + esc(c.community_name) + " " + esc(c.community_code);
            if (body.grid) {
              const link = spec.gridLink.replace("{id}", encodeURIComponent(body.grid.id)) + window.location.search;
              html += "<br><b>" + esc(spec.labels.grid) + '</b> <a href="' + esc(link) + '">' + esc(body.grid.id) + "</a>";
              if (body.staff.length) html += "<br>" + staffHtml(body.staff, spec);
            }
          }
          L.popup().setLatLng(e.latlng).setContent(html).openOn(map);
        })
        .catch((err) => showError(map, err.message));
    });
  };
})();
