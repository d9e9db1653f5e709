// Pieces every page uses: the heading (which also names the page in the title), the slot for
// a one-time notice, a success panel that takes the place of a finished form, and what the
// account page's panels share.

import { call } from "../api.js";
import { h } from "../dom.js";
import { describe, PortalError } from "../errors.js";
import { setTitle, translateElement } from "../i18n.js";
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

/**
 * For a panel of the account page: run `work`, showing a typed error in `status` (a session
 * the API no longer knows has already sent the user to log in).
 */
export function actingIn(status) {
  return async (work) => {
    status.replaceChildren();
    try {
      await work();
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      if (error.code === "unauthorized") return; // sent to log in already
      const { key, args } = describe(error);
      status.replaceChildren(h("p", { class: "alert alert-error", role: "alert", text: [key, args] }));
    }
  };
}

/** A date in the page's language, now and on a language switch. */
export function localDate(iso) {
  const el = h("span");
  el.dataset.i18nDate = iso;
  translateElement(el);
  return el;
}
