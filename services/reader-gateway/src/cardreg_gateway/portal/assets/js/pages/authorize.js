// `/oauth2/authorize` (FAQ 1): a relying service (the health passbook, online applications,
// tax filing) sends the person here to sign in. The portal's own login (card + registration
// password), then the consent screen: which service asks for what. The answer goes back to
// the gateway, which says where to send the browser: to the service, with a code or with
// "access denied". The service's request travels unchanged (this page's query string).
// On a phone (a browser with passkeys), "log in with this phone" swaps the card login for the
// mobile page's device login (ID number + password + passkey); that login hands the service
// only `openid passbook counter`, and a service asking for more hears `invalid_scope`.

import { call } from "../api.js";
import { h } from "../dom.js";
import { PortalError } from "../errors.js";
import { handleSubmit, required, collect, submitButton, textField, showFailure } from "../forms.js";
import { readCard } from "../reader.js";
import { accessToken, signIn } from "../session.js";
import { pageHeading } from "./common.js";
import { deviceLoginForm, passkeysWork } from "./mobile.js";

const SCOPES = ["openid", "profile", "email", "phone", "nhi_id", "passbook", "counter"];

function request() {
  const params = new URLSearchParams(window.location.search);
  params.delete("lang"); // the language switcher's, not the service's
  return params.toString();
}

async function decide(decision) {
  return call("POST", "/api/v1/authorizations", {
    body: { query: request(), decision },
    token: accessToken(),
  });
}

function follow(main, reply) {
  if (reply.redirect_to) {
    window.location.assign(reply.redirect_to);
    return;
  }
  if (reply.consent) {
    consent(main, reply.consent);
    return;
  }
  main.replaceChildren(
    pageHeading("authorize.title"),
    h("p", { class: "panel panel-error", role: "alert", text: "authorize.error" }),
  );
}

function consent(main, { client_name: client, scopes }) {
  const choice = (decision, label, className) =>
    h("button", {
      type: "button",
      class: className,
      "data-decision": decision,
      text: label,
      on: {
        click: async () => {
          try {
            follow(main, await decide(decision));
          } catch (error) {
            if (!(error instanceof PortalError)) throw error;
            showFailure(form, error);
          }
        },
      },
    });
  const form = h(
    "form",
    { class: "stack consent" },
    h("p", { class: "lead", text: ["authorize.consent_intro", { client }] }),
    h(
      "ul",
      { class: "consent-scopes" },
      scopes
        .filter((scope) => SCOPES.includes(scope))
        .map((scope) => h("li", { "data-scope": scope, text: `authorize.scope.${scope}` })),
    ),
    h("p", { class: "hint", text: "authorize.consent_note" }),
    h(
      "div",
      { class: "actions" },
      choice("allow", "authorize.allow", "primary"),
      choice("deny", "authorize.deny", "secondary"),
    ),
  );
  main.replaceChildren(pageHeading("authorize.consent_title"), form);
  main.querySelector("h1")?.focus();
}

export function authorize(main) {
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
      if (!accessToken()) {
        const card = await readCard();
        const reply = await call("POST", "/api/v1/sessions", {
          body: { card, password: password.input.value },
        });
        signIn(reply.access_token, reply.expires_in);
      }
      follow(main, await decide("ask"));
    },
    invalidFor: (error) => (error.code === "invalid_credentials" ? [password.input] : []),
  });
  const intro = h("p", { class: "lead", text: "authorize.intro" });
  main.append(pageHeading("authorize.title"), intro, form);
  if (passkeysWork()) {
    const usePhone = h("button", {
      type: "button",
      class: "secondary",
      "data-login": "phone",
      text: "authorize.use_phone",
      on: {
        click: () => {
          const phone = deviceLoginForm({
            lead: "authorize.intro_phone",
            signedIn: async () => follow(main, await decide("ask")),
          });
          intro.remove();
          usePhone.remove();
          form.replaceWith(phone);
          phone.querySelector("input")?.focus();
        },
      },
    });
    main.append(usePhone);
  }
}
