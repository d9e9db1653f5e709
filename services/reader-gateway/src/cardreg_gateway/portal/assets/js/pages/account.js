// `/account` (FAQ 8, 9): the signed-in profile with identifiers masked, [Change basic data]
// (email, phone, mail language), [Change registration password], the way to the account's
// activity, and log out.

import { h } from "../dom.js";
import { describe, PortalError } from "../errors.js";
import { languageName, translateElement } from "../i18n.js";
import {
  checkbox,
  collect,
  emailAddress,
  handleSubmit,
  inputsForFields,
  languageChoice,
  newPasswordFields,
  passwordLength,
  phoneNumber,
  required,
  sameAs,
  showStatus,
  submitButton,
  textField,
} from "../forms.js";
import { logOut } from "../shell.js";
import { linkTo, noticeSlot, pageHeading, signedInCaller } from "./common.js";
import { consentsPanel } from "./consents.js";
import { devicesPanel } from "./devices.js";

export function account(main, { navigate, notice }) {
  const withSession = signedInCaller(navigate);
  if (!withSession) return;

  const profile = h(
    "div",
    { class: "profile" },
    h("p", { role: "status", text: "account.loading" }),
  );
  const details = detailsForm(withSession, (updated) => showProfile(profile, updated));
  main.append(
    pageHeading("account.title"),
    noticeSlot(notice),
    h("p", { class: "note", text: "notice.reload" }),
    section(
      "account-profile",
      "account.profile",
      profile,
      h("p", { class: "hint", text: "account.masked" }),
    ),
    section("account-details", "details.title", details.element),
    section("account-password", "pw.title", passwordForm(withSession)),
    section("account-devices", "devices.title", devicesPanel(withSession)),
    section("account-consents", "consents.title", consentsPanel(withSession)),
    section(
      "account-activity",
      "activity.title",
      h("p", { text: "activity.intro" }),
      h("p", {}, linkTo("/account/activity", "activity.open", null)),
    ),
    section(
      "account-logout",
      "logout.title",
      h("p", { text: "logout.text" }),
      h("button", {
        type: "button",
        class: "secondary",
        text: "nav.logout",
        on: { click: logOut },
      }),
    ),
  );

  withSession("GET", "/api/v1/account")
    .then((reply) => {
      showProfile(profile, reply);
      details.load(reply);
    })
    .catch((error) => {
      if (!(error instanceof PortalError)) throw error;
      if (error.code === "unauthorized") return; // already sent to log in
      const { key, args } = describe(error);
      profile.replaceChildren(
        h("p", { class: "alert alert-error", role: "alert", text: [key, args] }),
      );
    });
}

function section(id, titleKey, ...children) {
  return h(
    "section",
    { "aria-labelledby": id, class: "card" },
    h("h2", { id, text: titleKey }),
    ...children,
  );
}

function showProfile(slot, p) {
  const row = (labelKey, value) => [h("dt", { text: labelKey }), h("dd", {}, value)];
  const plain = (value) =>
    value ? h("span", { translate: "no" }, value) : h("span", { text: "profile.none" });
  const created = h("span");
  created.dataset.i18nDate = p.created_at; // formatted in the current language, now and on a switch
  translateElement(created);
  const list = h(
    "dl",
    { class: "facts" },
    row("profile.kind", h("span", { text: `kind.${p.kind}` })),
    row("profile.status", h("span", { text: `status.${p.status}` })),
    row("profile.id_no", plain(p.id_no)),
    row("profile.card_no", plain(p.card_no)),
    row("profile.email", plain(p.email)),
    row("profile.phone", plain(p.phone)),
    row(
      "profile.language",
      h("span", { lang: p.language }, languageName(p.language)),
    ),
    row("profile.channel", h("span", { text: `channel.${p.channel}` })),
    row("profile.created", created),
  );
  slot.replaceChildren(list);
}

function detailsForm(withSession, onUpdated) {
  const status = h("div", { class: "status-slot" });
  const email = textField({
    name: "email",
    label: "details.email",
    type: "email",
    optional: true,
    autocomplete: "email",
    maxlength: "254",
  });
  const removeEmail = checkbox({ name: "remove_email", label: "details.remove_email" });
  const phone = textField({
    name: "phone",
    label: "details.phone",
    type: "tel",
    optional: true,
    autocomplete: "tel",
    maxlength: "32",
  });
  const removePhone = checkbox({ name: "remove_phone", label: "details.remove_phone" });
  const mailLanguage = languageChoice("zh-TW");
  let saved = { language: "zh-TW" };

  const form = h(
    "form",
    { class: "stack" },
    h("p", { class: "hint", text: "details.intro" }),
    email,
    removeEmail,
    phone,
    removePhone,
    mailLanguage,
    h("div", { class: "actions" }, submitButton("details.submit")),
  );

  const changes = () => {
    const patch = {};
    if (removeEmail.input.checked) patch.email = null;
    else if (email.input.value.trim()) patch.email = email.input.value.trim();
    if (removePhone.input.checked) patch.phone = null;
    else if (phone.input.value.trim()) patch.phone = phone.input.value.trim();
    if (mailLanguage.value() !== saved.language) patch.language = mailLanguage.value();
    return patch;
  };

  handleSubmit(form, {
    validate: () =>
      collect(
        !removeEmail.input.checked && email.input.value.trim() ? emailAddress(email.input) : null,
        !removePhone.input.checked && phone.input.value.trim() ? phoneNumber(phone.input) : null,
      ),
    run: async () => {
      status.replaceChildren();
      const patch = changes();
      if (!Object.keys(patch).length) {
        showStatus(status, "details.nothing");
        return;
      }
      const reply = await withSession("PATCH", "/api/v1/account", patch);
      for (const input of [email.input, phone.input]) input.value = "";
      for (const box of [removeEmail.input, removePhone.input]) box.checked = false;
      saved = reply;
      onUpdated(reply);
      showStatus(status, "details.saved");
    },
    invalidFor: (error) => inputsForFields(error, { email: email.input, phone: phone.input }),
  });

  return {
    element: h("div", {}, status, form),
    load(profile) {
      saved = profile;
      const radio = mailLanguage.querySelector(`input[value="${profile.language}"]`);
      if (radio) radio.checked = true;
    },
  };
}

function passwordForm(withSession) {
  const status = h("div", { class: "status-slot" });
  const current = textField({
    name: "current_password",
    label: "pw.current",
    type: "password",
    autocomplete: "current-password",
  });
  const [next, confirm] = newPasswordFields();
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
      status.replaceChildren();
      await withSession("PUT", "/api/v1/account/password", {
        current_password: current.input.value,
        new_password: next.input.value,
      });
      for (const field of [current, next, confirm]) field.input.value = "";
      showStatus(status, "pw.changed");
    },
    invalidFor: (error) => {
      if (error.code === "invalid_credentials") return [current.input];
      if (error.code === "weak_password") return [next.input, confirm.input];
      return [];
    },
  });
  return h("div", {}, status, form);
}
