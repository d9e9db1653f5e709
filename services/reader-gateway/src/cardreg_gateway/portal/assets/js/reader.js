// Reading the card: a fresh challenge from the gateway, signed by the card through the reader
// agent on the user's PC, then handed to the API call that needs it.
//
//   POST /api/v1/challenges            -> {"nonce", "expires_in"}
//   POST {agent_url}/v1/read {"nonce"} -> the card read, or {"error": {"code": "7004", ...}}
//
// The agent's URL comes from /portal/config.json (gateway setting CARDREG_GATEWAY_AGENT_URL);
// the page's CSP allows connections to that origin only. The agent's own message and remedy
// texts are not shown: the portal has its own, in every language, from FAQ 15.

import { call } from "./api.js";
import { PortalError, unreachable } from "./errors.js";

// The card read contract (DESIGN "Card read"); the API refuses any other field.
const CARD_FIELDS = [
  "card_no",
  "id_no",
  "name",
  "birth_date",
  "sex",
  "issued_on",
  "nonce",
  "signature",
];
const AGENT_TIMEOUT_MS = 60_000;

let config = null;

function portalConfig() {
  config ??= call("GET", "/portal/config.json").catch((error) => {
    config = null; // try again next time
    throw error;
  });
  return config;
}

/** A card read for a fresh challenge, ready to put in a request body as `card`. */
export async function readCard() {
  const [{ agent_url: agent }, { nonce }] = await Promise.all([
    portalConfig(),
    call("POST", "/api/v1/challenges"),
  ]);
  let response;
  try {
    response = await fetch(`${agent}/v1/read`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ nonce }),
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      signal: AbortSignal.timeout(AGENT_TIMEOUT_MS),
    });
  } catch {
    throw unreachable(); // agent not running, blocked, or too slow
  }
  const data = await response.json().catch(() => null);
  if (response.ok && data && typeof data === "object" && !data.error) {
    return Object.fromEntries(CARD_FIELDS.map((name) => [name, data[name]]));
  }
  const code = data && data.error && data.error.code;
  throw new PortalError("reader", code === undefined || code === null ? "unknown" : code);
}
