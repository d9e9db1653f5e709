// An account's audit events as a counter clerk (or an admin) reads them: the holder's
// activity plus the operator's opaque id for counter and employer work. Newest first, paged.

import { h } from "../dom.js";
import { describe, PortalError } from "../errors.js";
import { eventTable } from "../events.js";
import { heading, operatorCall } from "./views.js";

export function accountEvents(main, { accountId, back }) {
  const status = h("div", { class: "status-slot" });
  const table = eventTable({
    caption: "console.events.caption",
    columns: ["console.events.operator"],
    extra: (event) => h("td", { translate: "no", class: "operator-id" }, event.operator_id ?? "—"),
  });
  const more = h("button", { type: "button", class: "secondary", text: "activity.more", hidden: true });
  let next = null;
  const load = async (before) => {
    try {
      const query = before ? `?before=${encodeURIComponent(before)}` : "";
      const reply = await operatorCall("GET", `/accounts/${encodeURIComponent(accountId)}/events${query}`);
      const first = table.add(reply.events);
      next = reply.next;
      more.hidden = !next;
      return first;
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      const { key, args } = describe(error);
      status.replaceChildren(h("p", { class: "alert alert-error", role: "alert", text: [key, args] }));
      return null;
    }
  };
  more.addEventListener("click", () => load(next).then((first) => first?.querySelector("th")?.focus()));
  main.append(
    heading("console.events.title"),
    status,
    table,
    h(
      "div",
      { class: "actions" },
      more,
      " ",
      h("button", { type: "button", class: "secondary", text: "console.events.back", on: { click: back } }),
    ),
  );
  load(null);
}
