// The frame around every page: the language switcher and the main menu, which follows the
// session (log in, or my registration + log out) and marks the current page.

import { h } from "./dom.js";
import { call } from "./api.js";
import { currentPath, navigate, onRouteChange } from "./router.js";
import { accessToken, onSessionChange, signedIn, signOut } from "./session.js";
import { wireLanguageSwitcher } from "./switcher.js";

export function startShell() {
  wireLanguageSwitcher();
  renderMenu();
  onSessionChange(renderMenu);
  onRouteChange(markCurrent);
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
