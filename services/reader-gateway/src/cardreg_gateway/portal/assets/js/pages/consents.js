// The account page's "Services you allowed" (FAQ 1): the relying services the holder gave
// consent to, with what each may see, and withdrawing a consent, which ends that service's
// sign-ins at once. Both need the card login's session.

import { h } from "../dom.js";
import { showStatus } from "../forms.js";
import { actingIn, localDate } from "./common.js";

const SCOPES = ["openid", "profile", "email", "phone", "nhi_id"];

export function consentsPanel(withSession) {
  const status = h("div", { class: "status-slot" });
  const list = h("div", { class: "consents" }, h("p", { role: "status", text: "account.loading" }));

  const act = actingIn(status);

  const refresh = async () => {
    const reply = await withSession("GET", "/api/v1/account/consents");
    list.replaceChildren(
      reply.consents.length
        ? h("ul", { class: "consent-list" }, reply.consents.map(consentItem))
        : h("p", { text: "consents.none" }),
    );
  };

  const consentItem = (consent) =>
    h(
      "li",
      { class: "consent", "data-client": consent.client_id },
      h("strong", { translate: "no" }, consent.client_name),
      h("span", { class: "hint" }, " ", h("span", { text: "consents.given" }), " ", localDate(consent.created_at)),
      h(
        "ul",
        { class: "consent-scopes" },
        consent.scopes
          .filter((scope) => SCOPES.includes(scope))
          .map((scope) => h("li", { "data-scope": scope, text: `authorize.scope.${scope}` })),
      ),
      h("button", {
        type: "button",
        class: "secondary",
        text: "consents.withdraw",
        "data-withdraw": consent.client_id,
        on: {
          click: () =>
            act(async () => {
              await withSession("DELETE", `/api/v1/account/consents/${encodeURIComponent(consent.client_id)}`);
              await refresh();
              showStatus(status, "consents.withdrawn");
            }),
        },
      }),
    );

  act(refresh);
  return h("div", {}, h("p", { text: "consents.intro" }), status, list);
}
