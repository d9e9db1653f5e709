// Form building blocks with the accessibility wiring in one place: every field has a <label>,
// hints and errors are tied to it with aria-describedby, invalid fields get aria-invalid, a
// list of problems (role=alert) links to each field, and failures from the server or the
// reader are announced (role=alert) next to the button that caused them.

import { describe, PortalError } from "./errors.js";
import { h, setText, uniqueId } from "./dom.js";
import { languages } from "./i18n.js";

/** A labelled input with an optional hint. Returns the wrapper; the input is `.input`. */
export function textField({ name, label, hint, type = "text", optional = false, ...attrs }) {
  const id = uniqueId(name);
  const input = h("input", {
    id,
    name,
    type,
    required: !optional,
    "aria-describedby": hint ? `${id}-hint` : null,
    ...attrs,
  });
  input.dataset.label = label;
  const wrapper = h(
    "div",
    { class: "field" },
    h(
      "label",
      { for: id },
      h("span", { text: label }),
      optional ? h("span", { class: "optional", text: "optional" }) : null,
    ),
    hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null,
    h("p", { class: "field-error", id: `${id}-error`, hidden: true }),
    input,
  );
  wrapper.input = input;
  return wrapper;
}

/** Radio buttons in a fieldset; `options` is [[value, labelKey, {lang}?], ...]. */
export function choiceGroup({ name, legend, options, value, hint }) {
  const hintId = hint ? uniqueId(`${name}-hint`) : null;
  const group = h(
    "fieldset",
    { class: "choices", "aria-describedby": hintId },
    h("legend", { text: legend }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
  );
  for (const [optionValue, labelKey, extra = {}] of options) {
    const id = uniqueId(`${name}-${optionValue}`);
    group.append(
      h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", id, name, value: optionValue, checked: optionValue === value }),
        h(
          "label",
          { for: id, lang: extra.lang, text: extra.lang ? null : labelKey },
          extra.text ?? null,
        ),
      ),
    );
  }
  group.value = () => group.querySelector("input:checked")?.value ?? null;
  group.onChange = (listener) => group.addEventListener("change", () => listener(group.value()));
  return group;
}

/** The account's mail language: every language of the portal, each named in itself. */
export function languageChoice(value, legend = "mail_language.legend") {
  return choiceGroup({
    name: "language",
    legend,
    value,
    options: languages().map(({ code, name }) => [code, null, { lang: code, text: name }]),
  });
}

export function checkbox({ name, label }) {
  const id = uniqueId(name);
  const input = h("input", { type: "checkbox", id, name });
  const wrapper = h("div", { class: "choice" }, input, h("label", { for: id, text: label }));
  wrapper.input = input;
  return wrapper;
}

/** A new password and its confirmation (`<name>_confirm`): the rules as the first one's hint. */
export function newPasswordFields({
  name = "new_password",
  label = "pw.new",
  confirmLabel = "pw.confirm",
} = {}) {
  const secret = { type: "password", autocomplete: "new-password" };
  return [
    textField({ name, label, hint: "password.hint", ...secret }),
    textField({ name: `${name}_confirm`, label: confirmLabel, ...secret }),
  ];
}

export function fieldset(legend, ...children) {
  return h("fieldset", { class: "group" }, h("legend", { text: legend }), ...children);
}

export function submitButton(label) {
  return h("button", { type: "submit", class: "primary", text: label });
}

/** Show one field's problem under its label and tie it to the input. */
export function markInvalid(input, key, args) {
  const error = document.getElementById(`${input.id}-error`);
  if (error && key) {
    error.replaceChildren(
      h("span", { class: "visually-hidden", text: "error.prefix" }),
      h("span", { text: [key, args] }),
    );
    error.hidden = false;
  }
  input.setAttribute("aria-invalid", "true");
  describedBy(input, key ? `${input.id}-error` : null);
}

function describedBy(input, extraId) {
  const hint = document.getElementById(`${input.id}-hint`) ? `${input.id}-hint` : null;
  const ids = [extraId, hint].filter(Boolean);
  if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
  else input.removeAttribute("aria-describedby");
}

/**
 * Wire a form: `validate()` returns problems [{input, key, args}] (checked before anything is
 * sent), `run()` does the work and may throw a PortalError, `invalidFor(error)` names the
 * inputs a server failure is about (they point at the announced message), `onFailure(error,
 * alert)` may add a way on to the alert (a link). While `run` is
 * busy the button is aria-disabled (focus stays on it) and a status line says what happens.
 */
export function handleSubmit(
  form,
  { validate = () => [], run, invalidFor = () => [], onFailure = () => {}, busy },
) {
  form.noValidate = true; // our own messages, tied to the fields, instead of the browser's
  // Never a native GET: should the script fail, a password must not end up in a URL.
  form.method = "post";
  const button = form.querySelector("button[type=submit]");
  const status = h("p", { class: "busy", role: "status" });
  button.before(status);
  let working = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (working) return;
    clearFeedback(form);
    const problems = validate();
    if (problems.length) {
      showProblems(form, problems);
      return;
    }
    working = true;
    button.setAttribute("aria-disabled", "true");
    setText(status, typeof busy === "function" ? busy() : (busy ?? "busy.sending"));
    try {
      await run();
    } catch (error) {
      if (!(error instanceof PortalError)) {
        // A bug of ours: say something went wrong, and leave the error to the console.
        showFailure(form, new PortalError("api", "internal"));
        throw error;
      }
      onFailure(error, showFailure(form, error, invalidFor(error)));
    } finally {
      working = false;
      button.removeAttribute("aria-disabled");
      status.replaceChildren();
      delete status.dataset.i18n;
    }
  });
}

export function clearFeedback(form) {
  for (const el of form.querySelectorAll(".error-summary, .alert")) el.remove();
  for (const el of form.querySelectorAll(".field-error")) {
    el.hidden = true;
    el.replaceChildren();
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    describedBy(input, null);
  }
}

function showProblems(form, problems) {
  const list = h("ul");
  for (const { input, key, args } of problems) {
    markInvalid(input, key, args);
    list.append(h("li", {}, h("a", { href: `#${input.id}`, text: [key, args] })));
  }
  const summary = h(
    "div",
    { class: "error-summary", role: "alert", tabindex: "-1" },
    h("p", { class: "summary-title", text: "v.summary" }),
    list,
  );
  form.prepend(summary);
  summary.focus();
}

/** Announce a failure above the form's button; the inputs it concerns point to it. */
export function showFailure(form, error, inputs = []) {
  const { key, args, remedies } = describe(error);
  const id = uniqueId("alert");
  const alert = h(
    "div",
    { class: "alert alert-error", role: "alert", id },
    h("p", { class: "alert-title", text: [key, args] }),
  );
  alert.dataset.code = error.code;
  if (remedies.length) {
    alert.append(
      h("p", { text: "reader.remedies" }),
      h(
        "ol",
        {},
        remedies.map((remedy) => h("li", { text: remedy })),
      ),
    );
  }
  const anchor = form.querySelector(".actions") ?? form.querySelector("button[type=submit]");
  anchor.before(alert);
  for (const input of inputs) {
    input.setAttribute("aria-invalid", "true");
    describedBy(input, id);
  }
  return alert;
}

/** A success or information message (role=status), replacing the previous one in `slot`. */
export function showStatus(slot, key, args) {
  const message = h(
    "div",
    { class: "alert alert-ok", role: "status" },
    h("p", { text: [key, args] }),
  );
  slot.replaceChildren(message);
  return message;
}

/** The inputs an API validation failure names: `fields[].loc` like ["body", "household",
 * "township"], looked up in `byLoc` as "household.township". */
export function inputsForFields(error, byLoc) {
  const found = [];
  for (const { loc } of error.fields) {
    const path = (loc || []).filter((part) => part !== "body").join(".");
    const input = byLoc[path];
    if (input && !found.includes(input)) found.push(input);
  }
  return found;
}

// Checks shared by the pages; each returns a problem or null.

export function required(input) {
  return input.value.trim()
    ? null
    : { input, key: "v.required", args: { label: `@${input.dataset.label}` } };
}

export function maxLength(input, max) {
  return input.value.trim().length > max
    ? { input, key: "v.too_long", args: { label: `@${input.dataset.label}`, max } }
    : null;
}

export function dateValue(input) {
  return /^\d{4}-\d{2}-\d{2}$/.test(input.value)
    ? null
    : { input, key: "v.date", args: { label: `@${input.dataset.label}` } };
}

/** Length as the registry counts it: code points after NFKC. */
export function passwordLength(input) {
  const length = [...input.value.normalize("NFKC")].length;
  return length >= 8 && length <= 64 ? null : { input, key: "v.password_length" };
}

export function sameAs(confirm, original) {
  return confirm.value === original.value ? null : { input: confirm, key: "v.password_mismatch" };
}

// The registry's rules (domain/contacts.py), checked early so the message can be precise.
export function emailAddress(input) {
  const value = input.value.trim();
  return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(value) && value.length <= 254
    ? null
    : { input, key: "v.email" };
}

export function phoneNumber(input) {
  let digits = input.value.replace(/[\s().-]/g, "");
  if (digits.startsWith("+886")) {
    const rest = digits.slice(4);
    digits = rest.startsWith("0") ? rest : `0${rest}`;
  }
  return /^(09\d{8}|0[2-8]\d{7,8})$/.test(digits) ? null : { input, key: "v.phone" };
}

/** Problems from a list of checks, at most one per input (the first). */
export function collect(...checks) {
  const seen = new Set();
  const problems = [];
  for (const problem of checks) {
    if (problem && !seen.has(problem.input)) {
      seen.add(problem.input);
      problems.push(problem);
    }
  }
  return problems;
}
