/* gridmap map pages: load GeoJSON layers from the app (no inlined data), style, label, look up.
 * Used by the pages built in service/maps.py; depends on Leaflet only.
 *
 * Labels: each label has a priority (label_r, the room its polygon gives it, in metres); at every
 * zoom or pan the labels are placed largest room first and a label that would overlap one already
 * placed, or that is much wider than its polygon's room, is hidden (visibility, so its size stays
 * measurable) until zooming in gives it space.
 *
 * Staff sign-in (gridmapAuth): user name and password are posted to /auth/token by fetch; the
 * token is kept in this tab's sessionStorage only (token.js) (never in a URL or cookie) and every data request
 * sends it as "Authorization: Bearer …". Page navigations carry no token, so a page asked for a
 * draft plan (?plan_id=) answers with public data and its layers fetch the draft: a 404 then means
 * "sign in as staff" (no token) or "not yours" (token); a 401 (expired or revoked token) clears the
 * token, says so and retries the request anonymously. */
(function () {
  "use strict";

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(
      /[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]
    );
  }

  let auth = null; // the spec given to gridmapAuth: sign-in URLs and texts
  let authMap = null;
  let openSignIn = null; // shows the sign-in form (set by renderAuth)
  let wantSignIn = false; // a layer asked for sign-in before the form existed

  const getToken = window.gridmapToken.get;
  const setToken = window.gridmapToken.set;

  /** A message over the map (one line per kind: draft, hidden, expired), never duplicated. */
  function notify(kind) {
    if (!auth || !authMap) return;
    const container = authMap.getContainer();
    let box = container.querySelector(".gridmap-notice");
    if (!box) {
      box = L.DomUtil.create("div", "gridmap-notice", container);
      box.setAttribute("role", "status");
      L.DomEvent.disableClickPropagation(box);
    }
    if (box.querySelector('[data-kind="' + kind + '"]')) return;
    const line = document.createElement("div");
    line.setAttribute("data-kind", kind);
    line.textContent = auth.texts[kind];
    box.appendChild(line);
  }

  /** fetch with the sign-in token; a 401 clears the token, says so and retries anonymously. */
  function authFetch(url, init, retryAnonymous) {
    const token = getToken();
    const headers = Object.assign({}, (init && init.headers) || {});
    if (token) headers.Authorization = "Bearer " + token;
    const options = Object.assign({}, init || {}, { headers: headers, credentials: "same-origin" });
    return fetch(url, options).then((r) => {
      if (r.status === 401 && token) {
        if (getToken() === token) {
          setToken(null);
          notify("expired");
          if (auth) renderAuth();
        }
        if (retryAnonymous !== false) return authFetch(url, init, false);
      }
      return r;
    });
  }

  function asksForPlan(url) {
    try {
      return new URL(url, window.location.href).searchParams.has("plan_id");
    } catch (e) {
      return false;
    }
  }

  function classColor(value, breaks, colors) {
    if (value === null || value === undefined) return "#cccccc";
    let i = 0;
    while (i < breaks.length && value >= breaks[i]) i++;
    return colors[i];
  }

  function staffHtml(staff, spec) {
    return staff
      .map((s) => esc(s.name) + (s.role ? " (" + esc(spec.roles[s.role] || s.role) + ")" : ""))
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

  /** Draw spec.tiles (vector tiles of the app, OGC API – Tiles) into `group` with Leaflet.VectorGrid.
   * Tiles are fetched for the part of the map in view only, so a province's buildings never travel
   * as one GeoJSON; an empty tile answers 204. The container counts the tiles loaded and the
   * features drawn (data-<key>-tiles, data-<key>-tile-features). */
  function loadTiles(group, map, spec) {
    const tiles = spec.tiles;
    const container = map.getContainer();
    if (!L.vectorGrid) {
      showError(map, spec.errorLabel + ": Leaflet.VectorGrid");
      return;
    }
    const base = {
      color: spec.stroke,
      weight: spec.weight,
      fill: spec.filled !== false,
      fillColor: spec.fill,
      fillOpacity: spec.filled !== false ? spec.fillOpacity : 0,
      radius: 2,
    };
    const style = Object.assign(base, tiles.style || {});
    let drawn = 0;
    const styles = {};
    styles[tiles.layer] = () => {
      drawn++; // called once per feature drawn
      return style;
    };
    const layer = L.vectorGrid.protobuf(tiles.url, {
      pane: spec.pane,
      interactive: false,
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: styles,
      minZoom: tiles.minZoom,
      maxNativeZoom: 22,
      maxZoom: 24,
      fetchOptions: { credentials: "same-origin" },
    });
    let loaded = 0;
    layer.on("tileload", () => {
      loaded++;
      container.setAttribute("data-" + spec.key + "-tiles", loaded);
      container.setAttribute("data-" + spec.key + "-tile-features", drawn);
    });
    group.addLayer(layer);
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
    if (spec.tiles) loadTiles(group, map, spec);
    if (!spec.url) return;
    authFetch(spec.url, { headers: { Accept: "application/geo+json" } })
      .then((r) => {
        if (r.status === 404 && asksForPlan(spec.url)) {
          const hidden = new Error(spec.url + ": HTTP 404");
          hidden.planHidden = true;
          throw hidden;
        }
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
        if (spec.fit && group.getLayers().length) {
          const padding = { paddingTopLeft: [10, 48], paddingBottomRight: [10, 10], animate: false };
          map.fitBounds(group.getBounds(), padding);
        }
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
      .catch((err) => {
        if (!err.planHidden) {
          showError(map, spec.errorLabel + ": " + err.message);
          return;
        }
        // A draft this visitor may not see (or no such plan: the server answers both alike).
        map.getContainer().setAttribute("data-" + spec.key + "-hidden", "1");
        if (!auth) {
          showError(map, spec.errorLabel + ": " + err.message);
        } else if (getToken()) {
          notify("hidden");
        } else {
          notify("draft");
          if (openSignIn) openSignIn();
          else wantSignIn = true;
        }
      });
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
      authFetch(url)
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
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The sign-in form: posts to /auth/token by fetch (the password never goes into a URL). */
  function signInForm(box) {
    const t = auth.texts;
    const form = el("form", "gridmap-signin");
    form.method = "post";
    form.hidden = true;
    const user = el("input");
    user.name = "username";
    user.autocomplete = "username";
    user.required = true;
    const pass = el("input");
    pass.type = "password";
    pass.name = "password";
    pass.autocomplete = "current-password";
    pass.required = true;
    const userLabel = el("label", null, t.username + " ");
    userLabel.appendChild(user);
    const passLabel = el("label", null, t.password + " ");
    passLabel.appendChild(pass);
    const submit = el("button", null, t.submit);
    submit.type = "submit";
    const message = el("span", "gridmap-signin-error");
    message.setAttribute("role", "alert");
    [userLabel, passLabel, submit, message].forEach((n) => form.appendChild(n));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      message.textContent = "";
      submit.disabled = true;
      const body = new URLSearchParams({ username: user.value, password: pass.value });
      fetch(auth.tokenUrl, { method: "POST", body: body, credentials: "same-origin", cache: "no-store" })
        .then((r) => {
          if (r.ok) return r.json();
          throw new Error(r.status === 401 ? t.wrong : r.status === 429 ? t.throttled : t.failed);
        })
        .then((data) => {
          pass.value = "";
          setToken(data.access_token);
          window.location.reload(); // the same URL: the layers load again, with the token
        })
        .catch((err) => {
          pass.value = "";
          submit.disabled = false;
          message.textContent = [t.wrong, t.throttled].includes(err.message) ? err.message : t.failed;
        });
    });
    box.appendChild(form);
    return { form: form, user: user };
  }

  /** Fill the sign-in control: a sign-in button and form, or who is signed in and sign-out. */
  function renderAuth() {
    const slot = authMap && authMap.getContainer().querySelector(".gridmap-auth");
    if (!slot) return;
    const t = auth.texts;
    slot.textContent = "";
    const token = getToken();
    if (!token) {
      const open = el("button", "gridmap-signin-open", t.signIn);
      open.type = "button";
      slot.appendChild(open);
      const parts = signInForm(slot);
      openSignIn = () => {
        parts.form.hidden = false;
        open.hidden = true;
        parts.user.focus();
      };
      open.addEventListener("click", openSignIn);
      slot.setAttribute("data-signed-in", "0");
      if (wantSignIn) openSignIn();
      return;
    }
    openSignIn = null;
    const who = el("span", "gridmap-signed-in", t.signedIn);
    const name = el("b");
    who.appendChild(name);
    const out = el("button", "gridmap-signout", t.signOut);
    out.type = "button";
    out.addEventListener("click", () => {
      setToken(null);
      window.location.reload();
    });
    slot.appendChild(who);
    slot.appendChild(out);
    slot.setAttribute("data-signed-in", "1");
    authFetch(auth.meUrl, { cache: "no-store" }, false)
      .then((r) => (r.ok ? r.json() : null))
      .then((me) => {
        if (me) name.textContent = me.username;
      })
      .catch(() => {});
  }

  /** Downloads of a plan when signed in: fetched with the token, saved from a blob. */
  function authDownloads() {
    for (const link of document.querySelectorAll(".gridmap-bar a[download]")) {
      link.addEventListener("click", (e) => {
        if (!getToken()) return; // public files: the plain link
        e.preventDefault();
        authFetch(link.href)
          .then((r) => {
            if (!r.ok) throw new Error(link.href + ": HTTP " + r.status);
            const disposition = r.headers.get("Content-Disposition") || "";
            const match = /filename="?([^";]+)"?/.exec(disposition);
            const name = match ? match[1] : new URL(link.href).pathname.split("/").pop();
            return r.blob().then((blob) => ({ blob: blob, name: name }));
          })
          .then(({ blob, name }) => {
            const url = URL.createObjectURL(blob);
            const save = el("a");
            save.href = url;
            save.download = name;
            document.body.appendChild(save);
            save.click();
            save.remove();
            setTimeout(() => URL.revokeObjectURL(url), 10000);
          })
          .catch((err) => showError(authMap, err.message));
      });
    }
  }

  /** Staff sign-in on a map page (spec: tokenUrl, meUrl, texts): a control at the top right
   * (call before the layer control, so it stacks above it) and token-aware download links. */
  window.gridmapAuth = function (map, spec) {
    auth = spec;
    authMap = map;
    const control = L.control({ position: "topright" });
    control.onAdd = function () {
      const box = L.DomUtil.create("div", "gridmap-auth");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    renderAuth();
    // The bar with the download links comes after the map's script in the page: wait for it.
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", authDownloads);
    else authDownloads();
  };
})();
