// Pages with real URLs on the History API. The gateway answers every page path with the same
// index.html, so a reload, a bookmark or an emailed link (/reset-password?token=...) opens
// the right page; links inside the portal switch pages without reloading, which keeps the
// in-memory session (session.js).

import { clear } from "./dom.js";
import { setTitle } from "./i18n.js";

let routes = {};
let fallback = null;
let main = null;
let shownPath = null;
let pendingNotice = null;
const listeners = new Set();

export function startRouter(outlet, table, notFound) {
  main = outlet;
  routes = table;
  fallback = notFound;
  window.addEventListener("popstate", () => {
    // A same-page fragment change also fires popstate: keep the page (and what was typed).
    if (window.location.pathname !== shownPath) show({ focus: true });
  });
  document.addEventListener("click", onClick);
  show({ focus: false });
}

/** Go to a portal page; `notice` is a message key shown once on arrival. */
export function navigate(path, { notice = null, replace = false } = {}) {
  pendingNotice = notice;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  show({ focus: true });
}

export function onRouteChange(listener) {
  listeners.add(listener);
}

export function currentPath() {
  return window.location.pathname;
}

function show({ focus }) {
  const path = window.location.pathname;
  shownPath = path;
  const page = routes[path] ?? fallback;
  const notice = pendingNotice;
  pendingNotice = null;
  clear(main);
  setTitle(null);
  page(main, { navigate, notice });
  for (const listener of listeners) listener(path);
  // After a page change, start screen readers and keyboards at the new page's heading.
  if (focus) main.querySelector("h1")?.focus();
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin) return;
  if (url.pathname === window.location.pathname && url.hash) {
    // In-page links (skip link, error summary): move focus there without touching history.
    const target = document.getElementById(decodeURIComponent(url.hash.slice(1)));
    if (target) {
      event.preventDefault();
      if (!target.hasAttribute("tabindex") && !isFocusable(target))
        target.setAttribute("tabindex", "-1");
      target.focus();
    }
    return;
  }
  if (!(url.pathname in routes)) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

function isFocusable(el) {
  return el.matches("a[href], button, input, select, textarea, [tabindex]");
}
