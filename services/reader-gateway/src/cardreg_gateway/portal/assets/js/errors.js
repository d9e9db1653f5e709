// What went wrong, as the portal shows it: a message key (and arguments) in the user's
// language, plus remedies for reader errors. The server's English `message` is never shown:
// every code has its own text in every language (the portal catalogue's api.* and reader.*).

/** A failure from the API (`kind` "api", `code` one of the stable API codes) or from the card
 * reading (`kind` "reader", `code` one of FAQ 15's: 7004, 7001, 7002, 8013, 4061). */
export class PortalError extends Error {
  constructor(kind, code, details = {}) {
    super(`${kind} ${code}`);
    this.kind = kind;
    this.code = String(code);
    this.reason = details.reason ?? null;
    this.retryAfter = details.retryAfter ?? null;
    this.correlationId = details.correlationId ?? null;
    this.fields = details.fields ?? [];
  }
}

/** The portal could not reach the reader agent or the gateway (FAQ 15: 4061). */
export function unreachable() {
  return new PortalError("reader", "4061");
}

const READ_FAILURE_REMEDIES = [1, 2, 3, 4, 5].map((n) => `remedy.read.${n}`);

// FAQ 15: the meaning of each reader code and what to do about it.
export const READER_CODES = {
  7004: { meaning: "reader.7004", remedies: ["remedy.7004.1"] },
  7001: { meaning: "reader.read_failure", remedies: READ_FAILURE_REMEDIES },
  7002: { meaning: "reader.read_failure", remedies: READ_FAILURE_REMEDIES },
  8013: { meaning: "reader.read_failure", remedies: READ_FAILURE_REMEDIES },
  4061: { meaning: "reader.4061", remedies: ["remedy.4061.1", "remedy.4061.2"] },
};

// Every code in cardreg_shared/errors.py (a browser test checks the list against it).
export const API_CODES = [
  "invalid_request",
  "internal",
  "unavailable",
  "nonce_invalid",
  "card_unknown",
  "card_signature_invalid",
  "card_data_mismatch",
  "card_replaced",
  "proof_kind_mismatch",
  "household_mismatch",
  "residence_mismatch",
  "verification_locked",
  "already_registered",
  "account_deactivated",
  "weak_password",
  "invalid_credentials",
  "account_locked",
  "unauthorized",
  "insufficient_scope",
  "not_found",
  "reset_token_invalid",
  "method_not_allowed",
  "payload_too_large",
  "binding_invalid",
  "passkey_invalid",
  "device_limit_reached",
  "operator_disabled",
  "password_change_required",
  "document_mismatch",
  "insurance_mismatch",
  "setup_invalid",
];

export const WEAK_REASONS = [
  "control_character",
  "whitespace_only",
  "too_short",
  "too_long",
  "common",
  "contains_id_no",
];

/** {key, args, remedies} for an error: what the alert box shows. */
export function describe(error) {
  if (error.kind === "reader") return describeReader(error.code);
  return { ...describeApi(error), remedies: [] };
}

function describeReader(code) {
  const known = READER_CODES[code];
  if (known)
    return {
      key: "reader.titled",
      args: { code, meaning: `@${known.meaning}` },
      remedies: known.remedies,
    };
  // Not one of FAQ 15's codes (the agent refused the request, or failed inside): a numeric
  // code is still worth quoting to a helpdesk, anything else is not.
  return /^\d+$/.test(code)
    ? {
        key: "reader.titled",
        args: { code, meaning: "@reader.unknown" },
        remedies: READ_FAILURE_REMEDIES,
      }
    : { key: "reader.unknown", args: {}, remedies: READ_FAILURE_REMEDIES };
}

function describeApi({ code, reason, retryAfter, correlationId }) {
  const minutes = retryAfter ? Math.max(1, Math.ceil(retryAfter / 60)) : null;
  switch (code) {
    case "weak_password":
      return {
        key: WEAK_REASONS.includes(reason) ? `api.weak_password.${reason}` : "api.weak_password",
      };
    case "account_locked":
      if (reason === "password_reset_required") {
        return { key: "api.account_locked.password_reset_required" };
      }
      return minutes
        ? { key: "api.account_locked.wait", args: { minutes } }
        : { key: "api.account_locked" };
    case "verification_locked":
      return minutes
        ? { key: "api.verification_locked.wait", args: { minutes } }
        : { key: "api.verification_locked" };
    case "internal":
      return correlationId
        ? { key: "api.internal", args: { id: correlationId } }
        : { key: "api.internal.plain" };
    default:
      return API_CODES.includes(code)
        ? { key: `api.${code}` }
        : { key: "api.unknown", args: { code } };
  }
}
