// The setup code slip a clerk hands over (FAQ 5): the code, until when it works, and where
// to finish with the card. Printed with the console's print stylesheet (console.css: only
// the slip is printed). The code is shown this once: the registry keeps only its hash.

import { call } from "../api.js";
import { h } from "../dom.js";
import { translateElement } from "../i18n.js";
import { goHome, heading } from "./views.js";

let config = null;

function consoleConfig() {
  config ??= call("GET", "/console/config.json").catch((error) => {
    config = null;
    throw error;
  });
  return config;
}

export function slip(main, { setup, mailed }) {
  const expires = h("strong");
  expires.dataset.i18nDatetime = setup.expires_at;
  translateElement(expires);
  const where = h("span", { class: "slip-url", translate: "no" });
  consoleConfig().then(
    ({ setup_url: url }) => where.replaceChildren(url),
    () => where.replaceChildren("/setup"),
  );
  const print = h("button", {
    type: "button",
    class: "primary",
    text: "console.slip.print",
    "data-autofocus": true,
    on: { click: () => window.print() },
  });
  main.append(
    heading("console.slip.heading"),
    h("p", { class: "alert alert-ok", role: "status", text: mailed ? "console.slip.mailed" : "console.slip.ready" }),
    h(
      "section",
      { class: "slip", "aria-labelledby": "slip-title" },
      h("h2", { id: "slip-title", text: "console.slip.title" }),
      h("p", { text: "console.slip.code" }),
      h("p", { class: "slip-code", translate: "no" }, setup.code),
      h("p", {}, h("span", { text: "console.slip.expires" }), " ", expires),
      h(
        "ol",
        {},
        h("li", {}, h("span", { text: "console.slip.step.open" }), " ", where),
        h("li", { text: "console.slip.step.card" }),
        h("li", { text: "console.slip.step.password" }),
      ),
      h("p", { class: "hint", text: "console.slip.keep" }),
    ),
    h(
      "div",
      { class: "actions no-print" },
      print,
      " ",
      h("button", { type: "button", class: "secondary", text: "console.slip.done", on: { click: () => goHome() } }),
    ),
  );
}
