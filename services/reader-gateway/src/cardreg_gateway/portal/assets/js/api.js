// Calls to the gateway's JSON API (same origin). Errors arrive as
// {"error": {"code", "message", "reason"?, "retry_after"?, "correlation_id"?, "fields"?}};
// a network failure (the gateway could not be reached at all) is FAQ 15's 4061.

import { PortalError, unreachable } from "./errors.js";

export async function call(method, path, { body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
    });
  } catch {
    throw unreachable();
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  throw apiError(response.status, data);
}

function apiError(status, data) {
  const error = data && typeof data === "object" ? data.error : null;
  if (!error || typeof error.code !== "string") {
    // Not our error shape: a proxy's page, say. Judge by the status alone.
    return new PortalError("api", status >= 500 ? "unavailable" : "invalid_request");
  }
  return new PortalError("api", error.code, {
    reason: error.reason,
    retryAfter: error.retry_after,
    correlationId: error.correlation_id,
    fields: Array.isArray(error.fields) ? error.fields : [],
  });
}
