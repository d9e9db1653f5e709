// `/register` (FAQ 4, 5): the card, the household or residence-permit proof, a password,
// optional contact details and the mail language. Reading the card happens on submit, so the
// challenge is fresh however long the form took to fill in.

import { call } from "../api.js";
import { h } from "../dom.js";
import { currentLanguage } from "../i18n.js";
import {
  collect,
  emailAddress,
  fieldset,
  handleSubmit,
  inputsForFields,
  languageChoice,
  newPasswordFields,
  passwordLength,
  phoneNumber,
  required,
  sameAs,
  submitButton,
  textField,
} from "../forms.js";
import { readCard } from "../reader.js";
import { linkTo, pageHeading, replaceWithPanel } from "./common.js";
import { proofSection } from "./proof.js";

export function register(main) {
  const proof = proofSection();
  const [password, confirm] = newPasswordFields({
    name: "password",
    label: "password.new",
    confirmLabel: "password.confirm",
  });
  const email = textField({
    name: "email",
    label: "contact.email",
    hint: "contact.email.hint",
    type: "email",
    optional: true,
    autocomplete: "email",
    maxlength: "254",
  });
  const phone = textField({
    name: "phone",
    label: "contact.phone",
    hint: "contact.phone.hint",
    type: "tel",
    optional: true,
    autocomplete: "tel",
    maxlength: "32",
  });
  const mailLanguage = languageChoice(currentLanguage());

  const form = h(
    "form",
    { class: "stack", "aria-labelledby": "register-title" },
    ...proof.elements,
    fieldset("password.legend", password, confirm),
    fieldset("contact.legend", email, phone),
    mailLanguage,
    h("p", { class: "read-hint", text: "register.read_hint" }),
    h("div", { class: "actions" }, submitButton("register.submit")),
  );

  handleSubmit(form, {
    busy: "busy.reading",
    validate: () =>
      collect(
        ...proof.validate(),
        required(password.input),
        passwordLength(password.input),
        sameAs(confirm.input, password.input),
        email.input.value.trim() ? emailAddress(email.input) : null,
        phone.input.value.trim() ? phoneNumber(phone.input) : null,
      ),
    run: async () => {
      const card = await readCard();
      await call("POST", "/api/v1/registrations", {
        body: {
          card,
          ...proof.body(),
          password: password.input.value,
          email: email.input.value.trim() || null,
          phone: phone.input.value.trim() || null,
          language: mailLanguage.value(),
        },
      });
      replaceWithPanel(form, {
        title: "register.done.title",
        text: "register.done.text",
        links: [linkTo("/login", "register.done.login")],
      });
    },
    onFailure: (error, alert) => {
      // FAQ 12: a registered card is told so ("you have already applied"), with the way on.
      if (error.code === "already_registered") {
        alert.append(h("p", {}, linkTo("/login", "register.already.login", null)));
      }
    },
    invalidFor: (error) => {
      if (error.code === "weak_password") return [password.input, confirm.input];
      return [
        ...proof.inputsFor(error),
        ...inputsForFields(error, {
          ...proof.byLoc,
          password: password.input,
          email: email.input,
          phone: phone.input,
        }),
      ];
    },
  });

  const heading = pageHeading("register.title");
  heading.id = "register-title";
  main.append(heading, h("p", { class: "lead", text: "register.intro" }), form);
}
