// Counter work on one person (FAQ 5, 13): the clerk first sees an original document, then
// finds the person by ID number; the person's view offers what their state allows: register
// (a setup code slip), a new setup for a pending registration, deactivate (a reason from the
// fixed list + free text), reactivate, and the account's events. Every call names the
// document seen; the registry checks it belongs to the person.

import { h } from "../dom.js";
import { translateElement } from "../i18n.js";
import {
  checkbox,
  choiceGroup,
  collect,
  emailAddress,
  fieldset,
  handleSubmit,
  inputsForFields,
  languageChoice,
  maxLength,
  phoneNumber,
  required,
  submitButton,
  textField,
} from "../forms.js";
import { accountEvents } from "./events.js";
import { slip } from "./slip.js";
import { heading, noticeSlot, operatorCall, show } from "./views.js";

export const DOCUMENT_TYPES = [
  "national_id",
  "household_register",
  "passport",
  "driving_licence",
  "residence_permit",
];
// DeactivationReason in cardreg_shared/models/registry.py.
const REASONS = [
  "holder_request",
  "deceased",
  "card_misuse",
  "identity_fraud",
  "left_the_country",
  "other",
];

export function search(main) {
  const seen = checkbox({ name: "document_seen", label: "console.search.seen" });
  seen.input.dataset.label = "console.search.seen";
  seen.append(h("p", { class: "field-error", id: `${seen.input.id}-error`, hidden: true }));
  const kind = choiceGroup({
    name: "document_type",
    legend: "console.document.type",
    value: "national_id",
    options: DOCUMENT_TYPES.map((type) => [type, `console.document.${type}`]),
  });
  const number = textField({
    name: "document_number",
    label: "console.document.number",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: "20",
  });
  const idNo = textField({
    name: "id_no",
    label: "console.search.id_no",
    hint: "console.search.id_no.hint",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    maxlength: "10",
    "data-autofocus": true,
  });
  const form = h(
    "form",
    { class: "stack" },
    idNo,
    fieldset("console.document.legend", kind, number, seen),
    h("div", { class: "actions" }, submitButton("console.search.submit")),
  );
  handleSubmit(form, {
    validate: () =>
      collect(
        required(idNo.input),
        required(number.input),
        seen.input.checked ? null : { input: seen.input, key: "console.search.seen_required" },
      ),
    run: async () => {
      const document = { type: kind.value(), number: number.input.value.trim() };
      const found = await find(idNo.input.value.trim().toUpperCase());
      show(person, { found, document, idNo: idNo.input.value.trim().toUpperCase() });
    },
    invalidFor: (error) => (error.code === "not_found" ? [idNo.input] : inputsForFields(error, { id_no: idNo.input })),
  });
  main.append(
    heading("console.search.title"),
    noticeSlot(),
    h("p", { class: "lead", text: "console.search.intro" }),
    form,
  );
}

function find(idNo) {
  return operatorCall("POST", "/people/search", { id_no: idNo });
}

/** The person as the search found them (masked: the clerk has them in front of them). */
export function person(main, { found, document, idNo }) {
  const account = found.account;
  const status = account ? account.status : "none";
  const again = async (notice) => {
    const refreshed = await find(idNo);
    show(person, { found: refreshed, document, idNo, notice });
  };
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", { text: "profile.kind" }),
    h("dd", { text: `kind.${found.kind}` }),
    h("dt", { text: "console.person.document" }),
    h("dd", { text: `console.document.${document.type}` }),
    found.under_14 ? [h("dt", { text: "console.person.age" }), h("dd", { text: "console.person.under_14" })] : null,
    h("dt", { text: "profile.status" }),
    h("dd", { "data-status": status, text: account ? `status.${account.status}` : "console.person.no_account" }),
    account ? [h("dt", { text: "profile.channel" }), h("dd", { text: `channel.${account.channel}` })] : null,
    account ? [h("dt", { text: "profile.created" }), h("dd", {}, date(account.created_at))] : null,
  );
  const sections = [];
  if (!account) sections.push(section("console-register", "console.register.title", registerForm(found, document)));
  if (account && account.status === "pending") {
    sections.push(section("console-setup", "console.setup.title", newSetup(account)));
  }
  if (status !== "deactivated") {
    sections.push(section("console-deactivate", "console.deactivate.title", deactivateForm(found, document, again)));
  } else {
    sections.push(section("console-reactivate", "console.reactivate.title", reactivateForm(found, document, again)));
  }
  if (account) {
    sections.push(
      section(
        "console-events",
        "console.events.title",
        h("button", {
          type: "button",
          class: "secondary",
          text: "console.events.open",
          on: { click: () => show(accountEvents, { accountId: account.account_id, back: () => again(null) }) },
        }),
      ),
    );
  }
  main.append(
    heading("console.person.title"),
    noticeSlot(),
    facts,
    ...sections,
    h("p", {}, h("button", { type: "button", class: "secondary", text: "console.search.new", on: { click: () => show(search) } })),
  );
}

function section(id, titleKey, ...children) {
  return h("section", { "aria-labelledby": id, class: "card" }, h("h2", { id, text: titleKey }), ...children);
}

function date(iso) {
  const el = h("span");
  el.dataset.i18nDate = iso;
  translateElement(el);
  return el;
}

function registerForm(found, document) {
  const email = textField({ name: "email", label: "contact.email", type: "email", optional: true, autocomplete: "off", maxlength: "254" });
  const phone = textField({ name: "phone", label: "contact.phone", type: "tel", optional: true, autocomplete: "off", maxlength: "32" });
  const language = languageChoice("zh-TW");
  const form = h(
    "form",
    { class: "stack" },
    h("p", { text: found.under_14 ? "console.register.child" : "console.register.intro" }),
    email,
    phone,
    language,
    h("div", { class: "actions" }, submitButton("console.register.submit")),
  );
  handleSubmit(form, {
    validate: () =>
      collect(
        email.input.value.trim() ? emailAddress(email.input) : null,
        phone.input.value.trim() ? phoneNumber(phone.input) : null,
      ),
    run: async () => {
      const reply = await operatorCall("POST", "/registrations", {
        person_ref: found.person_ref,
        document,
        email: email.input.value.trim() || null,
        phone: phone.input.value.trim() || null,
        language: language.value(),
      });
      show(slip, { setup: reply.setup, mailed: Boolean(email.input.value.trim()) });
    },
    invalidFor: (error) => inputsForFields(error, { email: email.input, phone: phone.input }),
  });
  return form;
}

function newSetup(account) {
  const form = h(
    "form",
    { class: "stack" },
    h("p", { text: "console.setup.intro" }),
    h("div", { class: "actions" }, submitButton("console.setup.submit")),
  );
  handleSubmit(form, {
    run: async () => {
      const setup = await operatorCall("POST", `/accounts/${encodeURIComponent(account.account_id)}/setups`);
      show(slip, { setup, mailed: false });
    },
  });
  return form;
}

function deactivateForm(found, document, again) {
  const reason = choiceGroup({
    name: "reason",
    legend: "console.deactivate.reason",
    value: "holder_request",
    options: REASONS.map((code) => [code, `console.reason.${code}`]),
  });
  const note = h("textarea", { id: "deactivate-note", name: "note", maxlength: "500", rows: "3", "aria-describedby": "deactivate-note-hint" });
  note.dataset.label = "console.deactivate.note";
  const noteField = h(
    "div",
    { class: "field" },
    h("label", { for: "deactivate-note" }, h("span", { text: "console.deactivate.note" }), h("span", { class: "optional", text: "optional" })),
    h("p", { class: "hint", id: "deactivate-note-hint", text: "console.deactivate.note.hint" }),
    h("p", { class: "field-error", id: "deactivate-note-error", hidden: true }),
    note,
  );
  const form = h(
    "form",
    { class: "stack" },
    h("p", { text: found.account ? "console.deactivate.intro" : "console.deactivate.block" }),
    reason,
    noteField,
    h("div", { class: "actions" }, submitButton("console.deactivate.submit")),
  );
  handleSubmit(form, {
    validate: () => collect(maxLength(note, 500)),
    run: async () => {
      await operatorCall("POST", "/deactivations", {
        person_ref: found.person_ref,
        document,
        reason: { code: reason.value(), text: note.value.trim() },
      });
      await again("console.deactivate.done");
    },
  });
  return form;
}

function reactivateForm(found, document, again) {
  const form = h(
    "form",
    { class: "stack" },
    h("p", { text: "console.reactivate.intro" }),
    h("div", { class: "actions" }, submitButton("console.reactivate.submit")),
  );
  handleSubmit(form, {
    run: async () => {
      await operatorCall("POST", "/reactivations", { person_ref: found.person_ref, document });
      await again("console.reactivate.done");
    },
  });
  return form;
}
