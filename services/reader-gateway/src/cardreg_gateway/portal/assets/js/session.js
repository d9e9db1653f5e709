// The signed-in session: the access token, kept in this module's memory and nowhere else.
//
// Why memory only: the token is a bearer credential. Not in localStorage/sessionStorage,
// where any script running on the origin (or a browser extension) could read it long after
// the page is gone, and not in a cookie, which the browser would attach to requests by
// itself: with no cookie there is no ambient authority, so there is no CSRF to defend
// against, and the API needs no CSRF tokens. Navigating inside the portal keeps the session
// (the page is never reloaded); a reload or a new tab means logging in again with the card,
// which FAQ 10 asks for at every login anyway. The token also expires on its own
// (`expires_in`), and logging out revokes it at the registry.

let current = null; // { token, expiresAt }
const listeners = new Set();

export function signIn(token, expiresInSeconds) {
  current = { token, expiresAt: Date.now() + expiresInSeconds * 1000 };
  notify();
}

export function signOut() {
  current = null;
  notify();
}

/** The access token, or null once signed out or expired. */
export function accessToken() {
  if (current && Date.now() >= current.expiresAt) signOut();
  return current ? current.token : null;
}

export function signedIn() {
  return accessToken() !== null;
}

export function onSessionChange(listener) {
  listeners.add(listener);
}

function notify() {
  for (const listener of listeners) listener(current !== null);
}
