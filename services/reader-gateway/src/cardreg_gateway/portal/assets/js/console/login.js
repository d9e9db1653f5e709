// The operator's login (password + a TOTP code from the authenticator app), and the password
// change the enrolment's initial password asks for before any other work.

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
  textField,
} from "../forms.js";
import { goHome, heading, noticeSlot, operatorCall, show, startSession } from "./views.js";

export function login(main) {
  const username = textField({
    name: "username",
    label: "console.login.username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
    maxlength: "64",
    "data-autofocus": true,
  });
  const password = textField({
    name: "password",
    label: "console.login.password",
    type: "password",
    autocomplete: "current-password",
  });
  const totp = textField({
    name: "totp",
    label: "console.login.totp",
    hint: "console.login.totp.hint",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    maxlength: "16",
  });
  const form = h(
    "form",
    { class: "stack" },
    username,
    password,
    totp,
    h("div", { class: "actions" }, submitButton("console.login.submit")),
  );
  handleSubmit(form, {
    validate: () => collect(required(username.input), required(password.input), required(totp.input)),
    run: async () => {
      const reply = await call("POST", "/api/v1/operator/sessions", {
        body: {
          username: username.input.value.trim(),
          password: password.input.value,
          totp: totp.input.value.trim(),
        },
      });
      startSession(reply);
      if (reply.password_change_required) show(changePassword);
      else goHome({ notice: "console.logged_in" });
    },
    invalidFor: (error) =>
      error.code === "invalid_credentials" ? [username.input, password.input, totp.input] : [],
  });
  main.append(
    heading("console.login.title"),
    noticeSlot(),
    h("p", { class: "lead", text: "console.login.intro" }),
    form,
  );
}

export function changePassword(main) {
  const current = textField({
    name: "current_password",
    label: "console.password.current",
    type: "password",
    autocomplete: "current-password",
  });
  const [next, confirm] = newPasswordFields();
  next.input.dataset.autofocus = "";
  const form = h(
    "form",
    { class: "stack" },
    current,
    next,
    confirm,
    h("div", { class: "actions" }, submitButton("pw.submit")),
  );
  handleSubmit(form, {
    validate: () =>
      collect(
        required(current.input),
        required(next.input),
        passwordLength(next.input),
        sameAs(confirm.input, next.input),
      ),
    run: async () => {
      await operatorCall("PUT", "/password", {
        current_password: current.input.value,
        new_password: next.input.value,
      });
      goHome({ notice: "console.password.changed" });
    },
    invalidFor: (error) => {
      if (error.code === "invalid_credentials") return [current.input];
      if (error.code === "weak_password") return [next.input, confirm.input];
      return [];
    },
  });
  main.append(
    heading("console.password.title"),
    h("p", { class: "lead", text: "console.password.intro" }),
    form,
  );
}
