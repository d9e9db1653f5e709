// The console's views and its operator session. The console is one page with no URLs of its
// own (a clerk works through one person at a time; nothing of it belongs in the history or a
// bookmark): each view replaces the last, and the keyboard starts at its heading or its
// first field. The operator's token is kept in memory only (session.js), as the portal does.

import { call } from "../api.js";
import { clear, h } from "../dom.js";
import { setTitle } from "../i18n.js";
import { showStatus } from "../forms.js";
import { accessToken, signIn, signOut } from "../session.js";

let main = null;
let role = null;
let loginView = null;
let homes = {};

export function startViews(outlet, { login, home }) {
  main = outlet;
  loginView = login;
  homes = home;
  show(loginView); // a console is for work: the keyboard starts in the username
}

/** Replace the current view; `notice` is a message key shown once on arrival. */
export function show(view, { notice = null, focus = true, ...args } = {}) {
  clear(main);
  setTitle(null);
  view(main, args);
  const slot = main.querySelector(".notice-slot");
  if (notice && slot) showStatus(slot, notice);
  if (focus) (main.querySelector("[data-autofocus]") ?? main.querySelector("h1"))?.focus();
  renderBar();
}

export function heading(key) {
  setTitle(key);
  return h("h1", { tabindex: "-1", text: key });
}

export function noticeSlot() {
  return h("div", { class: "notice-slot" });
}

export function startSession(reply) {
  signIn(reply.access_token, reply.expires_in);
  role = reply.role;
}

export function currentRole() {
  return accessToken() ? role : null;
}

/** The view an operator works in: the search for a counter clerk (and an admin), the
 * registration form for an employer. */
export function goHome(options = {}) {
  show(homes[currentRole()] ?? homes.counter, options);
}

export function logOut(notice = "console.logged_out") {
  signOut();
  role = null;
  show(loginView, { notice });
}

/** An operator API call with the session's token. An expired session goes back to the login;
 * the first login's password must be changed before anything else. */
export async function operatorCall(method, path, body) {
  try {
    return await call(method, `/api/v1/operator${path}`, { body, token: accessToken() });
  } catch (error) {
    if (error.code === "unauthorized" && accessToken()) logOut("console.session_expired");
    throw error;
  }
}

function renderBar() {
  const bar = document.getElementById("operator");
  const who = currentRole();
  bar.replaceChildren(
    who
      ? h(
          "p",
          { class: "operator-bar" },
          h("span", { text: `console.role.${who}` }),
          " ",
          h("button", {
            type: "button",
            class: "link-button",
            id: "console-logout",
            text: "console.logout",
            on: { click: () => logOut() },
          }),
        )
      : "",
  );
}
