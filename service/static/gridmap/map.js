/* gridmap map pages: load GeoJSON layers from the app (no inlined data), style, label, look up.
 * Used by the pages built in service/maps.py; depends on Leaflet only. */
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

  function ensurePane(map, name, zIndex) {
    if (name && !map.getPane(name)) map.createPane(name).style.zIndex = zIndex;
  }

  function showError(map, message) {
    const box = L.DomUtil.create("div", "gridmap-error", map.getContainer());
    box.textContent = message;
  }

  function addLabel(labels, props, spec) {
    if (props.label_lat === undefined || props.label_lat === null) return;
    const icon = L.divIcon({ className: "gridmap-label", html: esc(props[spec.labelKey]), iconSize: null });
    labels.addLayer(L.marker([props.label_lat, props.label_lon], { icon: icon, interactive: false }));
  }

  function onFeature(feature, layer, spec, labels) {
    layer.bindTooltip(tooltipHtml(feature.properties, spec), { sticky: true });
    if (spec.link) {
      layer.on("click", function () {
        window.location.href = spec.link.replace("{id}", encodeURIComponent(feature.id)) + window.location.search;
      });
    }
    if (labels && spec.labelKey) addLabel(labels, feature.properties, spec);
  }

  /** Fetch spec.url and add its features to `group` (a layer already on the map or in a control). */
  window.gridmapLoad = function (group, map, spec, labels) {
    ensurePane(map, spec.pane, spec.zIndex || 410);
    const style = (f) => ({
      color: spec.stroke,
      weight: spec.weight,
      fillOpacity: spec.fillOpacity,
      fillColor: spec.colorBy ? classColor(f.properties[spec.colorBy], spec.breaks, spec.colors) : spec.fill,
      fill: spec.filled !== false,
      dashArray: spec.dash || null,
    });
    fetch(spec.url, { headers: { Accept: "application/geo+json" } })
      .then((r) => {
        if (!r.ok) throw new Error(spec.url + ": HTTP " + r.status);
        return r.json();
      })
      .then((data) => {
        L.geoJSON(data, {
          pane: spec.pane,
          style: style,
          pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 4, pane: spec.pane }),
          onEachFeature: (f, layer) => onFeature(f, layer, spec, labels),
        }).eachLayer((layer) => group.addLayer(layer));
        map.getContainer().setAttribute("data-" + spec.key + "-count", data.features.length);
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
