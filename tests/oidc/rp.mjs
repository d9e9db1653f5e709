// An independent relying party: openid-client (a certified OpenID Connect library) signing in
// through cardreg. Driven by the tests over stdin/stdout, one JSON line each way:
//
//   argv: issuer client_id client_secret|- redirect_uri scope [flow|revoke]
//   out:  {"authorize": URL}           the browser goes there; the test plays the browser
//   in:   {"redirect": URL}            where the provider sent the browser back
//   out:  {"result": {...}} or {"error": {...}}
//
// It does discovery, PKCE (S256), the code exchange with id_token validation (iss, aud,
// nonce, and the signature against the JWKS: non-repudiation checks on), userinfo, refresh,
// revocation, and reports what it saw.
import * as client from "openid-client";
import { createInterface } from "node:readline";

const [issuer, clientId, secret, redirectUri, scope, mode = "flow"] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const hear = async () => JSON.parse((await lines.next()).value);

function problem(error) {
  return { name: error.name, code: error.code, error: error.error, message: error.message };
}

async function main() {
  const auth = secret === "-" ? client.None() : client.ClientSecretBasic(secret);
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    secret === "-" ? undefined : { client_secret: secret },
    auth,
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
  );
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: challenge,
    code_challenge_method: "S256",
    nonce,
    state,
  });
  say({ authorize: url.href });
  const { redirect, verifier: override } = await hear();
  const tokens = await client.authorizationCodeGrant(config, new URL(redirect), {
    pkceCodeVerifier: override ?? verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (mode === "revoke") {
    const before = await client.tokenIntrospection(config, tokens.access_token);
    await client.tokenRevocation(config, tokens.refresh_token);
    const after = await client.tokenIntrospection(config, tokens.access_token);
    let refresh = null;
    try {
      await client.refreshTokenGrant(config, tokens.refresh_token);
    } catch (error) {
      refresh = problem(error);
    }
    say({ result: { before: before.active, after: after.active, refresh } });
    return;
  }
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  let replay = null;
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
  } catch (error) {
    replay = problem(error);
  }
  let afterReplay = null;
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token);
  } catch (error) {
    afterReplay = problem(error);
  }
  say({
    result: {
      alg: JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url")).alg,
      claims,
      userinfo: info,
      refreshed: Boolean(refreshed.access_token) && refreshed.refresh_token !== tokens.refresh_token,
      replay,
      afterReplay,
    },
  });
}


main()
  .catch((error) => say({ error: problem(error) }))
  .finally(() => process.exit(0));
