// `/forgot-password` (FAQ 7). With an email address on file the card alone is enough; without
// one, the household (or residence-permit) data and an address to send the link to come
// along. Once the card read checks out the answer is always the same (202), so the page never
// tells whether an account or an address exists.

import { call } from "../api.js";
import { h } from "../dom.js";
import {
  choiceGroup,
  collect,
  emailAddress,
  handleSubmit,
  inputsForFields,
  required,
  submitButton,
  textField,
} from "../forms.js";
import { readCard } from "../reader.js";
import { pageHeading, replaceWithPanel } from "./common.js";
import { proofSection } from "./proof.js";

export function forgotPassword(main) {
  const mode = choiceGroup({
    name: "email_on_file",
    legend: "forgot.mode.legend",
    value: "on_file",
    options: [
      ["on_file", "forgot.mode.on_file"],
      ["none", "forgot.mode.none"],
    ],
  });
  const onFileExplain = h("p", { class: "explain", text: "forgot.on_file.explain" });
  const proof = proofSection();
  const email = textField({
    name: "email",
    label: "forgot.email",
    type: "email",
    autocomplete: "email",
    maxlength: "254",
  });
  const withoutEmail = h(
    "div",
    { class: "stack", hidden: true },
    h("p", { class: "explain", text: "forgot.none.explain" }),
    ...proof.elements,
    email,
  );
  const noEmailOnFile = () => mode.value() === "none";
  mode.onChange(() => {
    withoutEmail.hidden = !noEmailOnFile();
    onFileExplain.hidden = noEmailOnFile();
  });

  const form = h(
    "form",
    { class: "stack" },
    mode,
    onFileExplain,
    withoutEmail,
    h("div", { class: "actions" }, submitButton("forgot.submit")),
  );

  handleSubmit(form, {
    busy: "busy.reading",
    validate: () =>
      noEmailOnFile()
        ? collect(...proof.validate(), required(email.input), emailAddress(email.input))
        : [],
    run: async () => {
      const card = await readCard();
      const body = noEmailOnFile()
        ? { card, ...proof.body(), email: email.input.value.trim() }
        : { card };
      await call("POST", "/api/v1/password-resets", { body });
      replaceWithPanel(form, { title: "forgot.accepted.title", text: "forgot.accepted" });
    },
    invalidFor: (error) => inputsForFields(error, { ...proof.byLoc, email: email.input }),
  });

  main.append(pageHeading("forgot.title"), h("p", { class: "lead", text: "forgot.intro" }), form);
}
