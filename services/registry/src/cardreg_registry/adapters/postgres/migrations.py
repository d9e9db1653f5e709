"""Schema versions on PostgreSQL, applied in order under an advisory lock
(`cardreg_shared.postgres.migrate`); `schema_migrations` records how far a schema has come.

Version 1 is the schema sqlite reached in its three steps. Append new versions; never edit one
that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: accounts (the raw ID number is never stored: its masked form and keyed hash only),
    # sessions, password-reset tokens (their SHA-256 only), the signing key set (private
    # halves sealed with the registry secret), the outbox with its relay claims, and
    # registry_meta (the secret's check value).
    """
    CREATE TABLE accounts (
        account_id    text PRIMARY KEY,
        person_id     text NOT NULL UNIQUE,
        kind          text NOT NULL CHECK (kind IN ('citizen', 'foreigner')),
        id_no_masked  text NOT NULL,
        id_no_hash    text,
        bound_card_no text,
        password_hash text,
        email         text,
        phone         text,
        status        text NOT NULL CHECK (status IN ('pending', 'active', 'deactivated')),
        channel       text NOT NULL CHECK (channel IN ('online', 'counter', 'employer')),
        failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
        locked_until  timestamptz,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        language      text NOT NULL DEFAULT 'zh-TW'
            CHECK (language IN ('zh-TW', 'en', 'vi', 'id', 'th')),
        version       integer NOT NULL DEFAULT 0
    );
    CREATE TABLE sessions (
        session_id  text PRIMARY KEY,
        account_id  text REFERENCES accounts (account_id),
        operator_id text,
        device_id   text,
        method      text NOT NULL,
        amr         text NOT NULL,
        scopes      text NOT NULL,
        issued_at   timestamptz NOT NULL,
        expires_at  timestamptz NOT NULL,
        revoked_at  timestamptz,
        CHECK ((account_id IS NULL) <> (operator_id IS NULL))
    );
    CREATE INDEX sessions_by_account ON sessions (account_id);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE reset_tokens (
        token_hash    text PRIMARY KEY,
        account_id    text NOT NULL REFERENCES accounts (account_id),
        pending_email text,
        created_at    timestamptz NOT NULL,
        expires_at    timestamptz NOT NULL,
        used_at       timestamptz,
        voided_at     timestamptz
    );
    CREATE INDEX reset_tokens_by_account ON reset_tokens (account_id, created_at);
    CREATE TABLE outbox (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subject       text NOT NULL,
        msg_id        text NOT NULL UNIQUE,
        payload       text NOT NULL,
        created_at    timestamptz NOT NULL,
        published_at  timestamptz,
        claimed_by    text,
        claimed_until timestamptz
    );
    CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
    CREATE INDEX outbox_by_published ON outbox (published_at) WHERE published_at IS NOT NULL;
    CREATE TABLE signing_keys (
        kid         text PRIMARY KEY,
        public_key  text NOT NULL,
        private_key bytea,
        created_at  timestamptz NOT NULL,
        retired_at  timestamptz
    );
    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((retired_at IS NULL))
        WHERE retired_at IS NULL;
    CREATE TABLE registry_meta (
        name  text PRIMARY KEY,
        value text NOT NULL
    );
    """,
    # 2: mobile devices (sqlite's step 4): bound passkeys (credential id and COSE public key
    # as base64url text, transports space-separated), the single-use binding links (SHA-256 of
    # the secret only), the WebAuthn challenges answered already, and accounts found by the
    # keyed hash of their ID number (device login).
    """
    CREATE TABLE devices (
        device_id     text PRIMARY KEY,
        account_id    text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        credential_id text NOT NULL UNIQUE,
        public_key    text NOT NULL,
        sign_count    bigint NOT NULL CHECK (sign_count >= 0),
        transports    text NOT NULL,
        aaguid        text NOT NULL,
        name          text NOT NULL,
        created_at    timestamptz NOT NULL,
        last_used_at  timestamptz
    );
    CREATE INDEX devices_by_account ON devices (account_id);
    CREATE TABLE device_bindings (
        token_hash text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz
    );
    CREATE INDEX device_bindings_by_expiry ON device_bindings (expires_at);
    CREATE TABLE spent_challenges (
        challenge_hash text PRIMARY KEY,
        expires_at     timestamptz NOT NULL
    );
    CREATE INDEX spent_challenges_by_expiry ON spent_challenges (expires_at);
    CREATE INDEX accounts_by_id_no_hash ON accounts (id_no_hash);
    """,
    # 3: relying services (OpenID Connect; sqlite's steps 5 and 6): clients with their
    # secret's SHA-256 (none for a public client), exact redirect URIs (one per line), allowed
    # scopes and id_token algorithm; grants (one sign-in of an account at a client) with their
    # codes and refresh tokens, only hashes of either; consents per account and client. The
    # key set gains an algorithm: one active key per algorithm (RSA beside Ed25519).
    """
    CREATE TABLE oidc_clients (
        client_id     text PRIMARY KEY,
        name          text NOT NULL,
        secret_hash   text,
        redirect_uris text NOT NULL,
        scopes        text NOT NULL,
        created_at    timestamptz NOT NULL,
        id_token_alg  text NOT NULL DEFAULT 'EdDSA' CHECK (id_token_alg IN ('EdDSA', 'RS256'))
    );
    CREATE TABLE oidc_grants (
        grant_id   text PRIMARY KEY,
        client_id  text NOT NULL REFERENCES oidc_clients (client_id),
        account_id text NOT NULL REFERENCES accounts (account_id),
        scopes     text NOT NULL,
        amr        text NOT NULL,
        auth_time  timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
    );
    CREATE INDEX oidc_grants_by_account ON oidc_grants (account_id);
    CREATE INDEX oidc_grants_by_client ON oidc_grants (client_id);
    CREATE TABLE oidc_codes (
        code_hash      text PRIMARY KEY,
        grant_id       text NOT NULL REFERENCES oidc_grants (grant_id),
        redirect_uri   text NOT NULL,
        nonce          text NOT NULL,
        code_challenge text NOT NULL,
        created_at     timestamptz NOT NULL,
        expires_at     timestamptz NOT NULL,
        used_at        timestamptz
    );
    CREATE INDEX oidc_codes_by_grant ON oidc_codes (grant_id);
    CREATE TABLE oidc_refresh_tokens (
        token_hash text PRIMARY KEY,
        grant_id   text NOT NULL REFERENCES oidc_grants (grant_id),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz
    );
    CREATE INDEX oidc_refresh_tokens_by_grant ON oidc_refresh_tokens (grant_id);
    CREATE TABLE oidc_consents (
        account_id text NOT NULL REFERENCES accounts (account_id),
        client_id  text NOT NULL REFERENCES oidc_clients (client_id),
        scopes     text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, client_id)
    );
    ALTER TABLE signing_keys ADD COLUMN alg text NOT NULL DEFAULT 'EdDSA'
        CHECK (alg IN ('EdDSA', 'RS256'));
    DROP INDEX signing_keys_one_active;
    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE retired_at IS NULL;
    """,
    # 4: the counters and employers (sqlite's steps 7, 8 and 9):
    # operators (counter clerks, employers' agents, admins; the TOTP secret sealed with the
    # registry secret, `totp_last_step` makes each code single use; their sessions live in
    # `sessions` with `operator_id` set), setup codes (their SHA-256 only), the consent an
    # employer recorded and the reason a counter gave for a deactivation on the account, and
    # the account events kept for the holder's activity and a counter's audit view.
    """
    CREATE TABLE operators (
        operator_id              text PRIMARY KEY,
        username                 text NOT NULL UNIQUE,
        role                     text NOT NULL CHECK (role IN ('counter', 'employer', 'admin')),
        unit_id                  text,
        status                   text NOT NULL CHECK (status IN ('active', 'disabled')),
        password_hash            text NOT NULL,
        password_change_required boolean NOT NULL,
        totp_secret              bytea NOT NULL,
        totp_last_step           bigint,
        failed_logins            integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
        locked_until             timestamptz,
        created_at               timestamptz NOT NULL,
        updated_at               timestamptz NOT NULL,
        version                  integer NOT NULL DEFAULT 0,
        CHECK ((role = 'employer') = (unit_id IS NOT NULL))
    );
    CREATE INDEX sessions_by_operator ON sessions (operator_id) WHERE operator_id IS NOT NULL;
    CREATE TABLE setups (
        code_hash  text PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        voided_at  timestamptz
    );
    CREATE INDEX setups_by_account ON setups (account_id);
    ALTER TABLE accounts ADD COLUMN consent_reference text;
    ALTER TABLE accounts ADD COLUMN consent_given_on text;
    ALTER TABLE accounts ADD COLUMN deactivation_reason text;
    ALTER TABLE accounts ADD COLUMN deactivation_note text;
    CREATE TABLE account_events (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id    text NOT NULL UNIQUE,
        account_id  text NOT NULL,
        payload     text NOT NULL,
        occurred_at timestamptz NOT NULL
    );
    CREATE INDEX account_events_by_account ON account_events (account_id, id);
    CREATE INDEX account_events_by_time ON account_events (occurred_at);
    """,
    # 5: the correlation id of the request that queued an outbox row (sqlite's step 10).
    """
    ALTER TABLE outbox ADD COLUMN correlation_id text;
    """,
    # 6: reset requests accepted and not yet worked off (sqlite's step 11).
    """
    CREATE TABLE reset_requests (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id     text NOT NULL UNIQUE,
        payload        bytea NOT NULL,
        created_at     timestamptz NOT NULL,
        not_before     timestamptz NOT NULL,
        attempts       integer NOT NULL DEFAULT 0,
        correlation_id text
    );
    CREATE INDEX reset_requests_due ON reset_requests (not_before);
    """,
)
