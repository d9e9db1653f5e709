// The frame around every page: the language switcher and the main menu, which follows the
// session (log in, or my registration + log out) and marks the current page.

import { h } from "./dom.js";
import { currentLanguage, onLanguageChange, setLanguage } from "./i18n.js";
import { call } from "./api.js";
import { currentPath, navigate, onRouteChange } from "./router.js";
import { accessToken, onSessionChange, signedIn, signOut } from "./session.js";

export function startShell() {
  // The gateway wrote the switcher: a link per language, named in it (`lang`), `?lang=` in
  // its href. Here a click switches in place instead of reloading, which keeps what was typed
  // and the in-memory session; should the texts not load, the link itself reloads the page
  // in that language.
  for (const link of document.querySelectorAll("#languages a[data-language]")) {
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      setLanguage(link.dataset.language).catch(() => window.location.assign(link.href));
    });
  }
  markLanguage(currentLanguage());
  onLanguageChange(markLanguage);
  renderMenu();
  onSessionChange(renderMenu);
  onRouteChange(markCurrent);
}

function markLanguage(current) {
  for (const link of document.querySelectorAll("#languages a[data-language]")) {
    if (link.dataset.language === current) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

function renderMenu() {
  const items = [
    link("/", "nav.home"),
    link("/register", "nav.register"),
    link("/lookup", "nav.lookup"),
  ];
  if (signedIn()) {
    items.push(link("/account", "nav.account"));
    items.push(
      h(
        "li",
        {},
        h("button", {
          type: "button",
          class: "link-button",
          id: "logout",
          text: "nav.logout",
          on: { click: logOut },
        }),
      ),
    );
  } else {
    items.push(link("/login", "nav.login"));
  }
  document.getElementById("menu").replaceChildren(...items);
  markCurrent(currentPath());
}

function link(path, key) {
  return h("li", {}, h("a", { href: path, text: key }));
}

function markCurrent(path) {
  for (const a of document.querySelectorAll("#menu a")) {
    if (a.getAttribute("href") === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

/** Revoke the session at the registry, then forget it here whatever the answer was. */
export async function logOut() {
  const token = accessToken();
  if (token) {
    try {
      await call("DELETE", "/api/v1/sessions/current", { token });
    } catch {
      // Forgotten here all the same; it also expires on its own.
    }
  }
  signOut();
  navigate("/", { notice: "notice.logged_out" });
}
