// `/m/` (FAQ 10), the page for phones. Opened from the binding link (`/m/#binding=…`) it
// creates the phone's passkey (user verification required) and binds it under a name;
// otherwise it logs in with the ID number, the registration password and the passkey. That
// session reaches the health passbook and counter functions only.

import { call } from "../api.js";
import { h } from "../dom.js";
import { PortalError } from "../errors.js";
import { collect, handleSubmit, maxLength, required, submitButton, textField } from "../forms.js";
import { accessToken, signIn, signOut } from "../session.js";
import { noticeSlot, pageHeading, replaceWithPanel } from "./common.js";

export function mobile(main, { notice }) {
  const binding = new URLSearchParams(window.location.hash.slice(1)).get("binding");
  main.append(pageHeading("mobile.title"), noticeSlot(notice));
  if (!passkeysWork()) {
    main.append(h("p", { class: "alert alert-error", role: "alert", text: "mobile.unsupported" }));
    return;
  }
  if (binding) main.append(bindForm(binding, main));
  else main.append(...loginForm());
}

export function passkeysWork() {
  const api = window.PublicKeyCredential;
  return Boolean(
    api && api.parseCreationOptionsFromJSON && api.parseRequestOptionsFromJSON && navigator.credentials,
  );
}

/** navigator.credentials refused (cancelled, no user verification): the API's own text. */
async function passkey(work) {
  try {
    return (await work()).toJSON();
  } catch (error) {
    if (error instanceof DOMException) throw new PortalError("api", "passkey_invalid");
    throw error;
  }
}

function bindForm(binding, main) {
  const name = textField({
    name: "device_name",
    label: "mobile.device_name",
    hint: "mobile.device_name_hint",
    maxlength: "64",
    autocomplete: "off",
  });
  const form = h(
    "form",
    { class: "stack" },
    h("p", { class: "lead", text: "mobile.intro_bind" }),
    name,
    h("div", { class: "actions" }, submitButton("mobile.bind_submit")),
  );
  handleSubmit(form, {
    validate: () => collect(required(name.input), maxLength(name.input, 64)),
    run: async () => {
      const { publicKey } = await call("POST", "/api/v1/device-bindings/options", {
        body: { binding },
      });
      const credential = await passkey(() =>
        navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(publicKey),
        }),
      );
      await call("POST", "/api/v1/device-bindings", {
        body: { binding, name: name.input.value.trim(), credential },
      });
      // The link is used up: forget it, and offer the login.
      window.history.replaceState(null, "", "/m/");
      replaceWithPanel(form, { title: "mobile.bound_title", text: "mobile.bound_text" });
      main.append(...loginForm());
    },
  });
  return form;
}

function loginForm() {
  const form = deviceLoginForm({
    lead: "mobile.intro_login",
    signedIn: () => {
      const panel = replaceWithPanel(form, {
        title: "mobile.signed_in_title",
        text: "mobile.signed_in_text",
      });
      panel.append(
        h("button", {
          type: "button",
          class: "secondary",
          text: "mobile.logout",
          on: {
            click: async () => {
              const token = accessToken();
              signOut();
              if (token) await call("DELETE", "/api/v1/sessions/current", { token }).catch(() => null);
              panel.replaceChildren(h("p", { role: "status", text: "mobile.logged_out" }));
            },
          },
        }),
      );
    },
  });
  return [form];
}

/** The device login (ID number + password + this phone's passkey), for `/m/` and for the
 * authorization page on a phone (authorize.js): signs in, then `signedIn()`. */
export function deviceLoginForm({ lead, signedIn }) {
  const idNo = textField({
    name: "id_no",
    label: "mobile.id_no",
    autocomplete: "username",
    maxlength: "10",
    autocapitalize: "characters",
  });
  const password = textField({
    name: "password",
    label: "mobile.password",
    type: "password",
    autocomplete: "current-password",
  });
  const form = h(
    "form",
    { class: "stack" },
    h("p", { class: "lead", text: lead }),
    idNo,
    password,
    h("div", { class: "actions" }, submitButton("mobile.login_submit")),
  );
  handleSubmit(form, {
    validate: () => collect(required(idNo.input), required(password.input)),
    run: async () => {
      const id_no = idNo.input.value.trim().toUpperCase();
      const { publicKey } = await call("POST", "/api/v1/device-sessions/options", {
        body: { id_no },
      });
      const credential = await passkey(() =>
        navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(publicKey),
        }),
      );
      const reply = await call("POST", "/api/v1/device-sessions", {
        body: { id_no, password: password.input.value, credential },
      });
      signIn(reply.access_token, reply.expires_in);
      await signedIn();
    },
    invalidFor: (error) => (error.code === "invalid_credentials" ? [idNo.input, password.input] : []),
  });
  return form;
}
