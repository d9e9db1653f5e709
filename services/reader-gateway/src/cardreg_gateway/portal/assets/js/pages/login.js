// `/login` (FAQ 10, 11): card + registration password. A newer card of the same person becomes
// the account's card on login (`card_updated`), which the account page then says.

import { call } from "../api.js";
import { h } from "../dom.js";
import { handleSubmit, required, collect, submitButton, textField } from "../forms.js";
import { readCard } from "../reader.js";
import { signIn } from "../session.js";
import { linkTo, noticeSlot, pageHeading } from "./common.js";

export function login(main, { navigate, notice }) {
  const password = textField({
    name: "password",
    label: "login.password",
    type: "password",
    autocomplete: "current-password",
  });
  const form = h(
    "form",
    { class: "stack" },
    password,
    h("div", { class: "actions" }, submitButton("login.submit")),
  );

  handleSubmit(form, {
    busy: "busy.reading",
    validate: () => collect(required(password.input)),
    run: async () => {
      const card = await readCard();
      const reply = await call("POST", "/api/v1/sessions", {
        body: { card, password: password.input.value },
      });
      signIn(reply.access_token, reply.expires_in);
      navigate("/account", {
        notice: reply.card_updated ? "notice.card_updated" : "notice.logged_in",
      });
    },
    invalidFor: (error) => (error.code === "invalid_credentials" ? [password.input] : []),
    onFailure: (error, alert) => {
      if (error.code === "account_locked" && error.reason === "password_reset_required") {
        alert.append(h("p", {}, linkTo("/forgot-password", "login.forgot", null)));
      }
    },
  });

  main.append(
    pageHeading("login.title"),
    noticeSlot(notice),
    h("p", { class: "lead", text: "login.intro" }),
    form,
    h(
      "ul",
      { class: "more-links" },
      h("li", {}, linkTo("/forgot-password", "login.forgot", null)),
      h("li", {}, linkTo("/register", "login.register", null)),
    ),
  );
}
