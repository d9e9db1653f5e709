// `/account/activity` (DESIGN "The holder's own activity"): what happened to the holder's
// account, newest first, a page at a time. Each entry says when, what, where it came in and
// how the actor proved who they were; work done at a service counter or by an employer says
// so, never by whom (the API does not know the clerk's name, and the page does not ask).

import { h } from "../dom.js";
import { describe, PortalError } from "../errors.js";
import { translateElement } from "../i18n.js";
import { linkTo, pageHeading, signedInCaller } from "./common.js";

const PAGE_SIZE = 20;
// The values the registry writes (cardreg_shared/models/events.py); anything newer is shown
// with a general text rather than as a raw code.
const TYPES = [
  "registered",
  "setup_issued",
  "setup_completed",
  "logged_in",
  "login_failed",
  "locked",
  "card_rebound",
  "password_changed",
  "password_reset",
  "email_changed",
  "phone_changed",
  "device_bound",
  "device_removed",
  "session_revoked",
  "deactivated",
  "reactivated",
  "consent_recorded",
];
const CHANNELS = ["online", "counter", "employer", "device", "oidc"];
const METHODS = [
  "card+password",
  "card+household",
  "card+residence",
  "card+setup_code",
  "reset_link",
  "binding_link",
  "device+password",
  "counter+national_id",
  "counter+household_register",
  "counter+passport",
  "counter+driving_licence",
  "counter+residence_permit",
  "employer+consent",
];
const OUTCOMES = ["ok", "temporary", "password_reset_required", "granted", "withdrawn"];

export function activity(main, { navigate }) {
  const withSession = signedInCaller(navigate);
  if (!withSession) return;

  const status = h("div", { class: "status-slot" });
  const body = h("tbody");
  const table = h(
    "table",
    { class: "activity", hidden: true },
    h("caption", { class: "visually-hidden", text: "activity.caption" }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["activity.col.at", "activity.col.what", "activity.col.where", "activity.col.how"].map(
          (key) => h("th", { scope: "col", text: key }),
        ),
      ),
    ),
    body,
  );
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
      body.append(...reply.events.map(row));
      table.hidden = body.children.length === 0;
      empty.hidden = body.children.length !== 0;
      next = reply.next;
      more.hidden = !next;
    } catch (error) {
      if (!(error instanceof PortalError)) throw error;
      if (error.code === "unauthorized") return; // sent to log in already
      const { key, args } = describe(error);
      status.replaceChildren(h("p", { class: "alert alert-error", role: "alert", text: [key, args] }));
    }
  };
  more.addEventListener("click", () => {
    // Keep the keyboard where the new rows begin, not on a button that may vanish.
    const first = body.children.length;
    load(next).then(() => body.children[first]?.querySelector("th")?.focus());
  });

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

function row(event) {
  const at = h("th", { scope: "row", tabindex: "-1" });
  at.dataset.i18nDatetime = event.at; // in the current language, now and on a switch
  translateElement(at);
  const what = TYPES.includes(event.type) ? `activity.type.${event.type}` : "activity.type.other";
  const outcome = OUTCOMES.includes(event.outcome) ? event.outcome : "refused";
  const where = CHANNELS.includes(event.channel)
    ? `activity.channel.${event.channel}`
    : "activity.channel.other";
  const how = METHODS.includes(event.method)
    ? `activity.method.${event.method.replace("+", "_")}`
    : event.method === null
      ? "activity.method.none"
      : "activity.method.other";
  return h(
    "tr",
    { "data-type": event.type, "data-channel": event.channel },
    at,
    h(
      "td",
      {},
      h("span", { text: what }),
      outcome === "ok" ? null : [" ", h("span", { class: "hint", text: `activity.outcome.${outcome}` })],
    ),
    h("td", { text: where }),
    h("td", { text: how }),
  );
}
