// An account's events in words: what happened, where it came in, how the actor proved who
// they were. The holder's activity page and the counter console's event list both show them.
// The values are the registry's (cardreg_shared/models/events.py); one this code does not
// know yet gets a general text rather than a raw code.

import { h } from "./dom.js";
import { translateElement } from "./i18n.js";

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

/** Message keys for one event: {what, outcome (null for "ok"), where, how}. */
export function eventTexts(event) {
  const outcome = OUTCOMES.includes(event.outcome) ? event.outcome : "refused";
  let how = "activity.method.other";
  if (event.method === null) how = "activity.method.none";
  else if (METHODS.includes(event.method))
    how = `activity.method.${event.method.replace("+", "_")}`;
  return {
    what: TYPES.includes(event.type) ? `activity.type.${event.type}` : "activity.type.other",
    outcome: outcome === "ok" ? null : `activity.outcome.${outcome}`,
    where: CHANNELS.includes(event.channel)
      ? `activity.channel.${event.channel}`
      : "activity.channel.other",
    how,
  };
}

/** A table of events, newest first: `columns` are extra header keys, `extra(event)` their
 * cells. Returns the table; `.add(events)` appends rows and returns the first new one. */
export function eventTable({ caption, columns = [], extra = () => [] }) {
  const body = h("tbody");
  const table = h(
    "table",
    { class: "activity" },
    h("caption", { class: "visually-hidden", text: caption }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        [
          "activity.col.at",
          "activity.col.what",
          "activity.col.where",
          "activity.col.how",
          ...columns,
        ].map((key) => h("th", { scope: "col", text: key })),
      ),
    ),
    body,
  );
  table.add = (events) => {
    const rows = events.map((event) => eventRow(event, extra(event)));
    body.append(...rows);
    return rows[0] ?? null;
  };
  table.size = () => body.children.length;
  return table;
}

function eventRow(event, cells) {
  const { what, outcome, where, how } = eventTexts(event);
  const at = h("th", { scope: "row", tabindex: "-1" });
  at.dataset.i18nDatetime = event.at ?? event.occurred_at; // in the current language, now and on a switch
  translateElement(at);
  return h(
    "tr",
    { "data-type": event.type, "data-channel": event.channel },
    at,
    h(
      "td",
      {},
      h("span", { text: what }),
      outcome ? [" ", h("span", { class: "hint", text: outcome })] : null,
    ),
    h("td", { text: where }),
    h("td", { text: how }),
    cells,
  );
}
