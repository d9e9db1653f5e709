// `/setup?code=...` (FAQ 4, 5): finishing a registration a service counter or an employer
// opened. The code comes from the counter's slip (typed) or the mailed link (in the address,
// taken from it at once and the address bar rewritten without it, as the reset page does);
// then the card is read on submit (a fresh challenge) and the new password chosen. A wrong,
// used or expired code and another person's card get the same answer (`setup_invalid`).

import { call } from "../api.js";
import { h } from "../dom.js";
import {
  collect,
  fieldset,
  handleSubmit,
  newPasswordFields,
  passwordLength,
  required,
  sameAs,
  submitButton,
  textField,
} from "../forms.js";
import { readCard } from "../reader.js";
import { linkTo, pageHeading, replaceWithPanel } from "./common.js";

function takeCodeFromAddress() {
  const url = new URL(window.location.href);
  const fromLink = url.searchParams.get("code");
  if (fromLink === null) return "";
  url.searchParams.delete("code");
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  return fromLink;
}

export function setup(main) {
  const code = textField({
    name: "code",
    label: "setup.code",
    hint: "setup.code.hint",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    maxlength: "64",
    translate: "no",
  });
  code.input.value = takeCodeFromAddress();
  const [password, confirm] = newPasswordFields({
    name: "password",
    label: "password.new",
    confirmLabel: "password.confirm",
  });
  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "setup-title" },
    code,
    fieldset("password.legend", password, confirm),
    h("p", { class: "read-hint", text: "setup.read_hint" }),
    h("div", { class: "actions" }, submitButton("setup.submit")),
  );

  handleSubmit(form, {
    busy: "busy.reading",
    validate: () =>
      collect(
        required(code.input),
        required(password.input),
        passwordLength(password.input),
        sameAs(confirm.input, password.input),
      ),
    run: async () => {
      const card = await readCard();
      await call("POST", "/api/v1/registrations/setup", {
        body: { code: code.input.value.trim(), card, password: password.input.value },
      });
      replaceWithPanel(form, {
        title: "setup.done.title",
        text: "setup.done.text",
        links: [linkTo("/login", "register.done.login")],
      });
    },
    invalidFor: (error) => {
      if (error.code === "setup_invalid") return [code.input];
      if (error.code === "weak_password") return [password.input, confirm.input];
      return [];
    },
  });

  const heading = pageHeading("setup.title");
  heading.id = "setup-title";
  main.append(heading, h("p", { class: "lead", text: "setup.intro" }), form);
}
