/* /staff: a grid worker's or party member's orders on a phone — map, list, claim, note, photo, done.
 *
 * Sign-in as on the map pages (static/gridmap/map.js): the user name and password go to
 * /auth/token by fetch, the token is kept in this tab's sessionStorage (token.js, shared with
 * the map pages) and sent as "Authorization: Bearer …", never in a URL or a cookie. A 401
 * clears it and shows the sign-in form again. Orders come from GET /orders (scoped by the server
 * to the user's grids); every action is a POST the server checks (the state machine refuses an
 * illegal move, and of two people claiming at once exactly one wins: the other is told so and
 * the list is reloaded). Depends on Leaflet only; no data is inlined in the page. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("staff-config").textContent);
  const t = config.texts;
  const $ = (id) => document.getElementById(id);
  const signIn = $("staff-signin");
  const main = $("staff-main");
  const list = $("staff-list");
  const status = $("staff-status");
  let me = null;
  let map = null;
  let markers = null;
  let outlines = null;
  let orders = [];
  const byId = new Map();

  const getToken = window.gridmapToken.get;
  const setToken = window.gridmapToken.set;

  class SignedOut extends Error {}

  /** fetch with the token; a 401 forgets it and shows the sign-in form. */
  function api(url, init) {
    const token = getToken();
    const headers = Object.assign({ Accept: "application/json" }, (init && init.headers) || {});
    if (token) headers.Authorization = "Bearer " + token;
    const options = Object.assign({}, init || {}, { headers: headers, credentials: "same-origin", cache: "no-store" });
    return fetch(url, options).then((r) => {
      if (r.status === 401) {
        setToken(null);
        showSignIn(t.expired);
        throw new SignedOut(t.expired);
      }
      return r;
    });
  }

  function detail(r) {
    return r
      .json()
      .then((body) => (typeof body.detail === "string" ? body.detail : t.failed))
      .catch(() => t.failed);
  }

  function showSignIn(message) {
    main.hidden = true;
    $("staff-signout").hidden = true;
    $("staff-who").textContent = "";
    signIn.hidden = false;
    signIn.querySelector(".orders-error").textContent = message || "";
    document.body.setAttribute("data-signed-in", "0");
  }

  signIn.addEventListener("submit", (e) => {
    e.preventDefault();
    const error = signIn.querySelector(".orders-error");
    const button = signIn.querySelector("button");
    const pass = signIn.elements.password;
    error.textContent = "";
    button.disabled = true;
    const body = new URLSearchParams({ username: signIn.elements.username.value, password: pass.value });
    fetch(config.tokenUrl, { method: "POST", body: body, credentials: "same-origin", cache: "no-store" })
      .then((r) => {
        if (r.ok) return r.json();
        throw new Error(r.status === 401 ? t.wrong : r.status === 429 ? t.throttled : t.failed);
      })
      .then((data) => {
        setToken(data.access_token);
        pass.value = "";
        start();
      })
      .catch((err) => {
        pass.value = "";
        error.textContent = [t.wrong, t.throttled].includes(err.message) ? err.message : t.failed;
      })
      .finally(() => {
        button.disabled = false;
      });
  });

  $("staff-signout").addEventListener("click", () => {
    setToken(null);
    showSignIn("");
  });

  function ensureMap() {
    if (map || !window.L) return;
    map = L.map("staff-map", { attributionControl: false, zoomControl: true });
    L.control.scale({ imperial: false }).addTo(map);
    outlines = L.featureGroup().addTo(map);
    markers = L.featureGroup().addTo(map);
    map.setView([config.center[0], config.center[1]], 14);
  }

  /** A faint base of the buildings and streets of the grids' communities (no tiles needed). */
  function drawBase(codes) {
    const communities = Array.from(new Set(codes.map((c) => c.slice(0, 12))));
    for (const code of communities) {
      fetch(config.baseUrl.replace("{code}", encodeURIComponent(code)), { headers: { Accept: "application/geo+json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((data) => {
          if (!data) return;
          L.geoJSON(data, {
            renderer: L.canvas({ pane: "tilePane" }),
            interactive: false,
            style: (f) => config.baseStyles[f.properties && f.properties.layer] || config.baseStyles.building,
            pointToLayer: (_f, latlng) => L.circleMarker(latlng, { radius: 2, interactive: false }),
          }).addTo(map);
        })
        .catch(() => {});
    }
  }

  /** The outlines of the user's grids (public published grids), drawn under the orders. */
  function drawGrids(codes) {
    if (!map) return Promise.resolve();
    drawBase(codes);
    outlines.clearLayers();
    const loads = codes.map((code) =>
      fetch(config.gridUrl.replace("{code}", encodeURIComponent(code)), { headers: { Accept: "application/geo+json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((data) => {
          if (!data) return;
          L.geoJSON(data, {
            style: { color: "#d7301f", weight: 2, fillColor: "#fff", fillOpacity: 0.1 },
            interactive: false,
          }).eachLayer((layer) => outlines.addLayer(layer));
        })
        .catch(() => {})
    );
    return Promise.all(loads);
  }

  function start() {
    if (!getToken()) {
      showSignIn("");
      return;
    }
    api(config.meUrl)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(t.failed))))
      .then((who) => {
        me = who;
        signIn.hidden = true;
        main.hidden = false;
        $("staff-signout").hidden = false;
        $("staff-who").textContent = who.username;
        document.body.setAttribute("data-signed-in", "1");
        ensureMap();
        return drawGrids(who.grid_codes || []).then(load);
      })
      .catch((err) => {
        if (!(err instanceof SignedOut)) status.textContent = err.message;
      });
  }

  function showMine() {
    const checked = document.querySelector("input[name=show]:checked");
    return !checked || checked.value === "mine";
  }

  for (const radio of document.querySelectorAll("input[name=show]")) radio.addEventListener("change", render);

  function load() {
    status.textContent = t.loading;
    const url = config.ordersUrl + "?" + new URLSearchParams(config.ordersQuery).toString();
    return api(url)
      .then((r) => (r.ok ? r.json() : detail(r).then((m) => Promise.reject(new Error(m)))))
      .then((body) => {
        orders = Array.isArray(body) ? body : body.orders || body.items || [];
        render();
      })
      .catch((err) => {
        if (!(err instanceof SignedOut)) status.textContent = err.message;
      });
  }

  /** Whether the signed-in user is the one working on (or meant to take) an order. */
  function isMine(order) {
    const name = me && me.username;
    if (["claimed", "in_progress"].includes(order.state)) return order.claimed_by === name;
    if (order.state === "dispatched") return !order.assignee || order.assignee === name;
    return false;
  }

  /** 第N网格 (Grid 00N): the sequence after the community's code (the full code otherwise). */
  function gridName(order) {
    const code = order.grid_code || "";
    if (!code) return t.noGrid;
    const seq = code.startsWith(order.community_code || "\u0000") ? code.slice(order.community_code.length) : "";
    return /^\d+$/.test(seq) ? t.grid.replace("{n}", String(Number(seq))).replace("{seq}", seq) : code;
  }

  function formatTime(value) {
    if (!value) return "";
    const d = new Date(value);
    if (isNaN(d)) return String(value);
    const pad = (n) => String(n).padStart(2, "0");
    const day = t.day.replace("{m}", String(d.getMonth() + 1)).replace("{d}", String(d.getDate()));
    return day + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function render() {
    const shown = orders.filter((o) => config.openStates.includes(o.state) && (!showMine() || isMine(o)));
    list.textContent = "";
    byId.clear();
    if (markers) markers.clearLayers();
    for (const order of shown) list.appendChild(card(order));
    status.textContent = shown.length ? t.count.replace("{n}", shown.length) : t.none;
    document.body.setAttribute("data-orders", String(shown.length));
    if (map && markers.getLayers().length) {
      const bounds = markers.getBounds().extend(outlines.getLayers().length ? outlines.getBounds() : markers.getBounds());
      map.fitBounds(bounds, { padding: [16, 16], maxZoom: 17, animate: false });
    } else if (map && outlines.getLayers().length) {
      map.fitBounds(outlines.getBounds(), { padding: [16, 16], animate: false });
    }
  }

  function card(order) {
    const node = $("staff-card").content.firstElementChild.cloneNode(true);
    node.dataset.orderId = order.id;
    node.dataset.state = order.state;
    const q = (sel) => node.querySelector(sel);
    q(".order-category").textContent = config.categories[order.category] || order.category;
    q(".order-state").textContent = config.states[order.state] || order.state;
    q(".order-overdue").hidden = !order.overdue;
    q(".order-grid").textContent = gridName(order);
    q(".order-time").textContent = formatTime(order.submitted_at);
    q(".order-id").textContent = "#" + order.id;
    q(".order-text").textContent = order.description || "";
    const due = ["claimed", "in_progress"].includes(order.state) ? order.close_due_at : order.claim_due_at;
    q(".order-due").textContent = due ? t.due.replace("{time}", formatTime(due)) : "";
    const mine = isMine(order);
    q(".order-claim").hidden = !(order.state === "dispatched" && mine);
    q(".order-start").hidden = !(order.state === "claimed" && mine);
    q(".order-open").hidden = !(order.state === "in_progress" && mine);
    q(".order-claim").addEventListener("click", () => move(node, order, "claimed", ""));
    q(".order-start").addEventListener("click", () => move(node, order, "in_progress", ""));
    q(".order-open").addEventListener("click", () => {
      q(".order-work").hidden = !q(".order-work").hidden;
    });
    q(".order-locate").addEventListener("click", () => select(order.id, true));
    const form = q(".order-work");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const act = e.submitter ? e.submitter.value : "note";
      work(node, order, act);
    });
    if (map && order.lat !== null && order.lat !== undefined) {
      const marker = L.circleMarker([order.lat, order.lon], {
        radius: 8,
        color: "#fff",
        weight: 2,
        fillColor: order.overdue ? "#b00020" : "#1565c0",
        fillOpacity: 0.9,
      });
      const tip = document.createElement("span"); // text, never HTML
      tip.textContent = (config.categories[order.category] || order.category) + " #" + order.id;
      marker.bindTooltip(tip);
      marker.on("click", () => select(order.id, false));
      markers.addLayer(marker);
      byId.set(String(order.id), { node: node, marker: marker });
    } else {
      byId.set(String(order.id), { node: node, marker: null });
    }
    return node;
  }

  function select(id, pan) {
    for (const { node } of byId.values()) node.classList.remove("order-selected");
    const hit = byId.get(String(id));
    if (!hit) return;
    hit.node.classList.add("order-selected");
    if (pan && hit.marker && map) map.setView(hit.marker.getLatLng(), Math.max(map.getZoom(), 17));
    else hit.node.scrollIntoView({ block: "nearest" });
  }

  function setBusy(node, busy) {
    for (const b of node.querySelectorAll("button")) b.disabled = busy;
  }

  function say(node, message) {
    const box = node.querySelector(".order-work .orders-error");
    box.textContent = message;
    if (message) status.textContent = message;
  }

  /** Move an order to `to` (claim, start, finish); a refusal is shown and the list reloaded. */
  function move(node, order, to, note) {
    setBusy(node, true);
    const body = JSON.stringify({ to: to, note: note || null });
    return api(config.transitionUrl.replace("{id}", order.id), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: body,
    })
      .then((r) => {
        if (r.ok) return load();
        return detail(r).then((m) => {
          say(node, (r.status === 409 ? t.conflict + " " : "") + m);
          return load().then(() => (status.textContent = m));
        });
      })
      .catch((err) => {
        if (!(err instanceof SignedOut)) say(node, err.message);
      })
      .finally(() => setBusy(node, false));
  }

  /** Add a note (and a photo), or finish the order with them. */
  function work(node, order, act) {
    const form = node.querySelector(".order-work");
    const note = form.elements.note.value.trim();
    const file = form.elements.photo.files[0];
    say(node, "");
    if (act === "done" && !note) {
      say(node, t.needNote);
      return Promise.resolve();
    }
    if (act === "note" && !note && !file) {
      say(node, t.needNoteOrPhoto);
      return Promise.resolve();
    }
    setBusy(node, true);
    const photo = file ? upload(order, file) : Promise.resolve(true);
    return photo
      .then((ok) => {
        if (!ok) return null;
        if (act === "done") return move(node, order, "done", note);
        if (file && !note) return load();
        return api(config.noteUrl.replace("{id}", order.id), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ note: note }),
        }).then((r) => (r.ok ? load() : detail(r).then((m) => say(node, m))));
      })
      .catch((err) => {
        if (!(err instanceof SignedOut)) say(node, err.message);
      })
      .finally(() => setBusy(node, false));
  }

  function upload(order, file) {
    const data = new FormData();
    data.append("photo", file);
    return api(config.photoUrl.replace("{id}", order.id), { method: "POST", body: data }).then((r) =>
      r.ok ? true : detail(r).then((m) => Promise.reject(new Error(m)))
    );
  }

  start();
})();
