// `/lookup` (FAQ 12): "not sure whether I registered?" Insert the card, press [Read].

import { call } from "../api.js";
import { h } from "../dom.js";
import { handleSubmit, submitButton } from "../forms.js";
import { readCard } from "../reader.js";
import { linkTo, pageHeading } from "./common.js";

export function lookup(main) {
  const result = h("div", { class: "result-slot" });
  const form = h(
    "form",
    { class: "stack" },
    h("div", { class: "actions" }, submitButton("lookup.submit")),
  );

  handleSubmit(form, {
    busy: "busy.reading",
    run: async () => {
      result.replaceChildren();
      const card = await readCard();
      const reply = await call("POST", "/api/v1/registrations/lookup", { body: { card } });
      result.replaceChildren(answer(reply));
    },
  });

  main.append(
    pageHeading("lookup.title"),
    h("p", { class: "lead", text: "lookup.intro" }),
    form,
    result,
  );
}

function answer({ registered, status }) {
  if (!registered) {
    return panel("lookup.not_registered", linkTo("/register", "lookup.not_registered.next"));
  }
  if (status === "deactivated") return panel("lookup.deactivated");
  return panel("lookup.registered", linkTo("/login", "lookup.registered.next"));
}

function panel(key, next = null) {
  return h(
    "div",
    { class: "panel", role: "status" },
    h("p", { class: "panel-text", text: key }),
    next ? h("p", { class: "panel-links" }, next) : null,
  );
}
