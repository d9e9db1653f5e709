// `/`: what the service is, what you need, where to go, and FAQ 15's reader error codes.

import { h } from "../dom.js";
import { READER_CODES } from "../errors.js";
import { noticeSlot, pageHeading } from "./common.js";

export function home(main, { notice }) {
  main.append(
    pageHeading("home.title"),
    noticeSlot(notice),
    h("p", { class: "lead", text: "home.intro" }),
    h(
      "section",
      { "aria-labelledby": "home-actions" },
      h("h2", { id: "home-actions", text: "home.actions" }),
      h(
        "ul",
        { class: "actions-list" },
        action("/register", "home.action.register"),
        action("/lookup", "home.action.lookup"),
        action("/login", "home.action.login"),
        action("/forgot-password", "home.action.forgot"),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "home-needs" },
      h("h2", { id: "home-needs", text: "home.needs" }),
      h(
        "ul",
        {},
        h("li", { text: "home.needs.reader" }),
        h("li", { text: "home.needs.card" }),
        h("li", { text: "home.needs.agent" }),
        h("li", { text: "home.needs.proof" }),
      ),
    ),
    readerCodes(),
  );
}

function action(path, key) {
  return h("li", {}, h("a", { href: path, class: "action", text: key }));
}

function readerCodes() {
  const list = h("dl", { class: "codes" });
  const groups = [["7004"], ["8013", "7001", "7002"], ["4061"]];
  for (const codes of groups) {
    const { meaning, remedies } = READER_CODES[codes[0]];
    // The codes listed together, with the language's own separator between them.
    const listed = codes.flatMap((code, i) =>
      i ? [h("span", { text: "list.separator" }), code] : [code],
    );
    list.append(
      h("dt", {}, listed),
      h(
        "dd",
        {},
        h("p", { text: meaning }),
        h(
          "ol",
          {},
          remedies.map((key) => h("li", { text: key })),
        ),
      ),
    );
  }
  return h(
    "section",
    { "aria-labelledby": "home-codes" },
    h("h2", { id: "home-codes", text: "home.codes" }),
    h("p", { text: "home.codes.intro" }),
    list,
  );
}
