// `/account/activity` (DESIGN "The holder's own activity"): what happened to the holder's
// account, newest first, a page at a time. Each entry says when, what, where it came in and
// how the actor proved who they were; work done at a service counter or by an employer says
// so, never by whom (the API does not know the clerk's name, and the page does not ask).

import { h } from "../dom.js";
import { describe, PortalError } from "../errors.js";
import { eventTable } from "../events.js";
import { linkTo, pageHeading, signedInCaller } from "./common.js";

const PAGE_SIZE = 20;

export function activity(main, { navigate }) {
  const withSession = signedInCaller(navigate);
  if (!withSession) return;

  const status = h("div", { class: "status-slot" });
  const table = eventTable({ caption: "activity.caption" });
  table.hidden = true;
  const empty = h("p", { text: "activity.none", hidden: true });
  const more = h("button", { type: "button", class: "secondary", text: "activity.more", hidden: true });
  let next = null;

  const load = async (before) => {
    status.replaceChildren(h("p", { role: "status", text: "account.loading" }));
    try {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (before) query.set("before", before);
      const reply = await withSession("GET", `/api/v1/account/activity?${query}`);
      status.replaceChildren();
      const first = table.add(reply.events);
      table.hidden = table.size() === 0;
      empty.hidden = table.size() !== 0;
      next = reply.next;
      more.hidden = !next;
      return first;
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      if (error.code === "unauthorized") return null; // sent to log in already
      const { key, args } = describe(error);
      status.replaceChildren(h("p", { class: "alert alert-error", role: "alert", text: [key, args] }));
      return null;
    }
  };
  // Keep the keyboard where the new rows begin, not on a button that may vanish.
  more.addEventListener("click", () => load(next).then((first) => first?.querySelector("th")?.focus()));

  main.append(
    pageHeading("activity.title"),
    h("p", { class: "lead", text: "activity.page_intro" }),
    status,
    table,
    empty,
    h("div", { class: "actions" }, more),
    h("p", {}, linkTo("/account", "activity.back", null)),
  );
  load(null);
}
