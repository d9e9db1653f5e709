// `/reset-password?token=...`: the page the reset email links to. The token is taken from the
// URL at once and the address bar is rewritten without it (history.replaceState), so it stays
// neither in the browser's history nor in a Referer; it lives in memory until it is used.

import { call } from "../api.js";
import { h } from "../dom.js";
import {
  collect,
  handleSubmit,
  newPasswordFields,
  passwordLength,
  required,
  sameAs,
  submitButton,
} from "../forms.js";
import { signOut } from "../session.js";
import { linkTo, pageHeading, replaceWithPanel } from "./common.js";

let token = null;

function takeTokenFromAddress() {
  const url = new URL(window.location.href);
  const fromLink = url.searchParams.get("token");
  if (fromLink !== null) {
    token = fromLink || null;
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

export function resetPassword(main) {
  takeTokenFromAddress();
  main.append(pageHeading("reset.title"));
  if (!token) {
    main.append(
      h("div", { class: "alert alert-error", role: "alert" }, h("p", { text: "reset.no_token" })),
      h("p", {}, linkTo("/forgot-password", "reset.request_new")),
    );
    return;
  }
  const [password, confirm] = newPasswordFields();
  const form = h(
    "form",
    { class: "stack" },
    password,
    confirm,
    h("div", { class: "actions" }, submitButton("reset.submit")),
  );

  handleSubmit(form, {
    validate: () =>
      collect(
        required(password.input),
        passwordLength(password.input),
        sameAs(confirm.input, password.input),
      ),
    run: async () => {
      await call("POST", "/api/v1/password-resets/complete", {
        body: { token, new_password: password.input.value },
      });
      token = null; // single use
      signOut(); // the reset ended every session, this page's included
      replaceWithPanel(form, {
        title: "reset.done.title",
        text: "reset.done.text",
        links: [linkTo("/login", "register.done.login")],
      });
    },
    invalidFor: (error) => (error.code === "weak_password" ? [password.input, confirm.input] : []),
    onFailure: (error, alert) => {
      if (error.code === "reset_token_invalid") {
        token = null;
        alert.append(h("p", {}, linkTo("/forgot-password", "reset.request_new", null)));
      }
    },
  });

  main.append(h("p", { class: "lead", text: "reset.intro" }), form);
}
