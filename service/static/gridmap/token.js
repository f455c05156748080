/* gridmap sign-in token, shared by the map pages (map.js) and the staff page (staff.js): kept in
 * this tab's sessionStorage under "gridmap.token" only (never in a URL or a cookie). Storage
 * disabled (private mode, policy) means no token: the user stays anonymous, or signs in on every
 * page. Loaded before the page's own script; depends on nothing. */
window.gridmapToken = (function () {
  "use strict";

  const TOKEN_KEY = "gridmap.token";

  /** The stored token, or null. */
  function get() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return null;
    }
  }

  /** Store the token; a falsy one removes it. */
  function set(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage disabled: no token kept */
    }
  }

  return Object.freeze({ get, set });
})();
