// An employer's registration for a person insured through its own unit (FAQ 4): the ID
// number, the person's consent (the employer's reference and the day it was given) and the
// email the setup link is mailed to. The registry refuses anyone not insured by the unit.

import { h } from "../dom.js";
import {
  collect,
  dateValue,
  emailAddress,
  fieldset,
  handleSubmit,
  inputsForFields,
  languageChoice,
  required,
  submitButton,
  textField,
} from "../forms.js";
import { slip } from "./slip.js";
import { heading, noticeSlot, operatorCall, show } from "./views.js";

export function employerRegistration(main) {
  const idNo = textField({
    name: "id_no",
    label: "console.search.id_no",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    maxlength: "10",
    "data-autofocus": true,
  });
  const reference = textField({
    name: "consent_reference",
    label: "console.employer.reference",
    hint: "console.employer.reference.hint",
    autocomplete: "off",
    maxlength: "64",
  });
  const givenOn = textField({ name: "consent_given_on", label: "console.employer.given_on", type: "date" });
  const email = textField({
    name: "email",
    label: "contact.email",
    hint: "console.employer.email.hint",
    type: "email",
    autocomplete: "off",
    maxlength: "254",
  });
  const language = languageChoice("zh-TW");
  const form = h(
    "form",
    { class: "stack" },
    idNo,
    fieldset("console.employer.consent", reference, givenOn),
    email,
    language,
    h("div", { class: "actions" }, submitButton("console.employer.submit")),
  );
  handleSubmit(form, {
    validate: () =>
      collect(
        required(idNo.input),
        required(reference.input),
        dateValue(givenOn.input),
        required(email.input),
        emailAddress(email.input),
      ),
    run: async () => {
      const reply = await operatorCall("POST", "/registrations", {
        id_no: idNo.input.value.trim().toUpperCase(),
        consent: { reference: reference.input.value.trim(), given_on: givenOn.input.value },
        email: email.input.value.trim(),
        language: language.value(),
      });
      show(slip, { setup: reply.setup, mailed: true });
    },
    invalidFor: (error) => {
      if (error.code === "insurance_mismatch" || error.code === "not_found") return [idNo.input];
      return inputsForFields(error, {
        id_no: idNo.input,
        email: email.input,
        "consent.reference": reference.input,
        "consent.given_on": givenOn.input,
      });
    },
  });
  main.append(
    heading("console.employer.title"),
    noticeSlot(),
    h("p", { class: "lead", text: "console.employer.intro" }),
    form,
  );
}
