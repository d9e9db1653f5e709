// Pieces every page uses: the heading (which also names the page in the title), the slot for
// a one-time notice, and a success panel that takes the place of a finished form.

import { call } from "../api.js";
import { h } from "../dom.js";
import { setTitle } from "../i18n.js";
import { showStatus } from "../forms.js";
import { accessToken, signOut } from "../session.js";

export function pageHeading(key) {
  setTitle(key);
  return h("h1", { tabindex: "-1", text: key });
}

/** The notice a page was navigated to with (e.g. "You are logged out"), as a status message. */
export function noticeSlot(notice) {
  const slot = h("div", { class: "notice-slot" });
  if (notice) showStatus(slot, notice);
  return slot;
}

/** Replace `form` with a panel: a heading (focused, so it is read), text, and links. */
export function replaceWithPanel(form, { title, text, links = [], level = "h2" }) {
  const heading = h(level, { tabindex: "-1", text: title });
  const panel = h(
    "section",
    { class: "panel panel-ok", role: "status" },
    heading,
    text ? h("p", { text }) : null,
    links.length ? h("p", { class: "panel-links" }, links) : null,
  );
  form.replaceWith(panel);
  heading.focus();
  return panel;
}

export function linkTo(path, key, className = "button-link") {
  return h("a", { href: path, class: className, text: key });
}

/**
 * For a page that needs the card login's session: a `call` with the session's token, or null
 * (and the way to log in) when there is none. A session the API no longer knows sends the
 * user to log in.
 */
export function signedInCaller(navigate) {
  if (!accessToken()) {
    navigate("/login", { notice: "notice.login_required", replace: true });
    return null;
  }
  return async (method, path, body) => {
    try {
      return await call(method, path, { body, token: accessToken() });
    } catch (error) {
      if (error.code === "unauthorized") {
        signOut();
        navigate("/login", { notice: "notice.session_expired" });
      }
      throw error;
    }
  };
}
