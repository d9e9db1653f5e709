"""Schema versions, applied in order; `PRAGMA user_version` records how far a file has come.

Append new versions; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: accounts and sessions. Times are ISO-8601 UTC text. The raw ID number is never
    # stored: only its masked form, snapshotted at registration.
    """
    CREATE TABLE accounts (
        account_id    TEXT PRIMARY KEY,
        person_id     TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('citizen', 'foreigner')),
        id_no_masked  TEXT NOT NULL,
        bound_card_no TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        email         TEXT,
        phone         TEXT,
        status        TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
        channel       TEXT NOT NULL CHECK (channel IN ('online', 'counter', 'employer')),
        failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
        locked_until  TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE sessions (
        jti        TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id),
        issued_at  TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX sessions_by_account ON sessions (account_id);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    """,
    # 2: mail language per account; password-reset tokens (only their SHA-256 is kept); the
    # outbox that carries mail requests to JetStream in the same transaction as the change.
    """
    ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'zh-TW'
        CHECK (language IN ('zh-TW', 'en'));
    CREATE TABLE reset_tokens (
        token_hash    TEXT PRIMARY KEY,
        account_id    TEXT NOT NULL REFERENCES accounts (account_id),
        pending_email TEXT,
        created_at    TEXT NOT NULL,
        expires_at    TEXT NOT NULL,
        used_at       TEXT,
        voided_at     TEXT
    );
    CREATE INDEX reset_tokens_by_account ON reset_tokens (account_id, created_at);
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        subject      TEXT NOT NULL,
        msg_id       TEXT NOT NULL UNIQUE,
        payload      TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        published_at TEXT
    );
    CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
    CREATE INDEX outbox_by_published ON outbox (published_at) WHERE published_at IS NOT NULL;
    """,
    # 3: the account lifecycle: `pending` (no card or password yet) and a person deactivated
    # without an account (neither); the ID number's keyed hash for the password rule; a
    # version that guards every account write. Sessions get their own id (`sid`; older
    # tokens named theirs by jti), a principal, method, amr, scopes and device. The signing
    # key set (private halves sealed with the registry secret; the secret's check value in
    # `registry_meta`), and outbox claims so replicas relay different rows. Languages: every
    # language the portal is to speak. Accounts and sessions are rebuilt (sqlite cannot change
    # a column's constraints in place); their rows are copied as they are.
    """
    CREATE TABLE accounts_v3 (
        account_id    TEXT PRIMARY KEY,
        person_id     TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('citizen', 'foreigner')),
        id_no_masked  TEXT NOT NULL,
        id_no_hash    TEXT,
        bound_card_no TEXT,
        password_hash TEXT,
        email         TEXT,
        phone         TEXT,
        status        TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deactivated')),
        channel       TEXT NOT NULL CHECK (channel IN ('online', 'counter', 'employer')),
        failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
        locked_until  TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        language      TEXT NOT NULL DEFAULT 'zh-TW'
            CHECK (language IN ('zh-TW', 'en', 'vi', 'id', 'th')),
        version       INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO accounts_v3 (
        account_id, person_id, kind, id_no_masked, bound_card_no, password_hash, email, phone,
        status, channel, failed_logins, locked_until, created_at, updated_at, language
    )
    SELECT account_id, person_id, kind, id_no_masked, bound_card_no, password_hash, email, phone,
        status, channel, failed_logins, locked_until, created_at, updated_at, language
    FROM accounts;
    CREATE TABLE sessions_v3 (
        session_id  TEXT PRIMARY KEY,
        account_id  TEXT REFERENCES accounts (account_id),
        operator_id TEXT,
        device_id   TEXT,
        method      TEXT NOT NULL,
        amr         TEXT NOT NULL,
        scopes      TEXT NOT NULL,
        issued_at   TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        revoked_at  TEXT,
        CHECK ((account_id IS NULL) <> (operator_id IS NULL))
    );
    INSERT INTO sessions_v3 (
        session_id, account_id, method, amr, scopes, issued_at, expires_at, revoked_at
    )
    SELECT jti, account_id, 'card+password', 'pwd sc', 'account', issued_at, expires_at,
        revoked_at
    FROM sessions;
    DROP TABLE sessions;
    DROP TABLE accounts;
    ALTER TABLE accounts_v3 RENAME TO accounts;
    ALTER TABLE sessions_v3 RENAME TO sessions;
    CREATE INDEX sessions_by_account ON sessions (account_id);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
    CREATE TABLE signing_keys (
        kid         TEXT PRIMARY KEY,
        public_key  TEXT NOT NULL,
        private_key BLOB,
        created_at  TEXT NOT NULL,
        retired_at  TEXT
    );
    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((retired_at IS NULL))
        WHERE retired_at IS NULL;
    CREATE TABLE registry_meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 4: mobile devices (FAQ 10): bound passkeys (credential id and COSE public key as
    # base64url text, transports space-separated), the single-use binding links (SHA-256 of
    # the secret only), the WebAuthn challenges answered already, and accounts found by the
    # keyed hash of their ID number (device login).
    """
    CREATE TABLE devices (
        device_id     TEXT PRIMARY KEY,
        account_id    TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        credential_id TEXT NOT NULL UNIQUE,
        public_key    TEXT NOT NULL,
        sign_count    INTEGER NOT NULL CHECK (sign_count >= 0),
        transports    TEXT NOT NULL,
        aaguid        TEXT NOT NULL,
        name          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        last_used_at  TEXT
    );
    CREATE INDEX devices_by_account ON devices (account_id);
    CREATE TABLE device_bindings (
        token_hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT
    );
    CREATE INDEX device_bindings_by_expiry ON device_bindings (expires_at);
    CREATE TABLE spent_challenges (
        challenge_hash TEXT PRIMARY KEY,
        expires_at     TEXT NOT NULL
    );
    CREATE INDEX spent_challenges_by_expiry ON spent_challenges (expires_at);
    CREATE INDEX accounts_by_id_no_hash ON accounts (id_no_hash);
    """,
    # 5: relying services (OpenID Connect). Clients with their secret's SHA-256 (none for a
    # public client), exact redirect URIs (one per line) and allowed scopes; grants (one
    # sign-in of an account at a client) with their codes and refresh tokens, only hashes of
    # either; consents per account and client.
    """
    CREATE TABLE oidc_clients (
        client_id     TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        secret_hash   TEXT,
        redirect_uris TEXT NOT NULL,
        scopes        TEXT NOT NULL,
        created_at    TEXT NOT NULL
    );
    CREATE TABLE oidc_grants (
        grant_id   TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id),
        account_id TEXT NOT NULL REFERENCES accounts (account_id),
        scopes     TEXT NOT NULL,
        amr        TEXT NOT NULL,
        auth_time  TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX oidc_grants_by_account ON oidc_grants (account_id);
    CREATE INDEX oidc_grants_by_client ON oidc_grants (client_id);
    CREATE TABLE oidc_codes (
        code_hash      TEXT PRIMARY KEY,
        grant_id       TEXT NOT NULL REFERENCES oidc_grants (grant_id),
        redirect_uri   TEXT NOT NULL,
        nonce          TEXT NOT NULL,
        code_challenge TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        expires_at     TEXT NOT NULL,
        used_at        TEXT
    );
    CREATE INDEX oidc_codes_by_grant ON oidc_codes (grant_id);
    CREATE TABLE oidc_refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        grant_id   TEXT NOT NULL REFERENCES oidc_grants (grant_id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT
    );
    CREATE INDEX oidc_refresh_tokens_by_grant ON oidc_refresh_tokens (grant_id);
    CREATE TABLE oidc_consents (
        account_id TEXT NOT NULL REFERENCES accounts (account_id),
        client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id),
        scopes     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (account_id, client_id)
    );
    """,
    # 6: an RSA key beside the Ed25519 one (RS256 id_tokens, offered as OpenID Connect asks):
    # one active key per algorithm; a client's id_token algorithm.
    """
    ALTER TABLE signing_keys ADD COLUMN alg TEXT NOT NULL DEFAULT 'EdDSA'
        CHECK (alg IN ('EdDSA', 'RS256'));
    DROP INDEX signing_keys_one_active;
    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE retired_at IS NULL;
    ALTER TABLE oidc_clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'EdDSA'
        CHECK (id_token_alg IN ('EdDSA', 'RS256'));
    """,
    # 7: operators (counter clerks, employers' agents, admins): principals of their own. The
    # TOTP secret is sealed with the registry secret; `totp_last_step` makes each code single
    # use. Operators' sessions live in `sessions` with `operator_id` set.
    """
    CREATE TABLE operators (
        operator_id              TEXT PRIMARY KEY,
        username                 TEXT NOT NULL UNIQUE,
        role                     TEXT NOT NULL CHECK (role IN ('counter', 'employer', 'admin')),
        unit_id                  TEXT,
        status                   TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        password_hash            TEXT NOT NULL,
        password_change_required INTEGER NOT NULL CHECK (password_change_required IN (0, 1)),
        totp_secret              BLOB NOT NULL,
        totp_last_step           INTEGER,
        failed_logins            INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
        locked_until             TEXT,
        created_at               TEXT NOT NULL,
        updated_at               TEXT NOT NULL,
        version                  INTEGER NOT NULL DEFAULT 0,
        CHECK ((role = 'employer') = (unit_id IS NOT NULL))
    );
    CREATE INDEX sessions_by_operator ON sessions (operator_id) WHERE operator_id IS NOT NULL;
    """,
    # 8: counter and employer registrations: setup codes (only their SHA-256 is kept), the
    # consent an employer recorded, the reason a counter gave for a deactivation (the free text
    # stays here, never in an event).
    """
    CREATE TABLE setups (
        code_hash  TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT,
        voided_at  TEXT
    );
    CREATE INDEX setups_by_account ON setups (account_id);
    ALTER TABLE accounts ADD COLUMN consent_reference TEXT;
    ALTER TABLE accounts ADD COLUMN consent_given_on TEXT;
    ALTER TABLE accounts ADD COLUMN deactivation_reason TEXT;
    ALTER TABLE accounts ADD COLUMN deactivation_note TEXT;
    """,
    # 9: the account events kept for the holder's activity page and a counter's audit view,
    # written with the change as the outbox rows are (no personal data: the event as published).
    """
    CREATE TABLE account_events (
        id          INTEGER PRIMARY KEY,
        event_id    TEXT NOT NULL UNIQUE,
        account_id  TEXT NOT NULL,
        payload     TEXT NOT NULL,
        occurred_at TEXT NOT NULL
    );
    CREATE INDEX account_events_by_account ON account_events (account_id, id);
    CREATE INDEX account_events_by_time ON account_events (occurred_at);
    """,
    # 10: the correlation id of the request that queued an outbox row, relayed as a header.
    """
    ALTER TABLE outbox ADD COLUMN correlation_id TEXT;
    """,
    # 11: reset requests accepted and not yet worked off (domain/reset_requests.py): sealed,
    # deleted when their follow-up ends.
    """
    CREATE TABLE reset_requests (
        id             INTEGER PRIMARY KEY,
        request_id     TEXT NOT NULL UNIQUE,
        payload        BLOB NOT NULL,
        created_at     TEXT NOT NULL,
        not_before     TEXT NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        correlation_id TEXT
    );
    CREATE INDEX reset_requests_due ON reset_requests (not_before);
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the file to the newest version, one transaction per step; returns the version.

    Foreign keys are off while steps run (a step may rebuild a table others refer to, which
    sqlite can do only that way) and checked before each step commits.
    """
    ((version,),) = conn.execute("PRAGMA user_version").fetchall()
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"registry.db is at schema {version}, newer than this code ({len(MIGRATIONS)})"
        )
    if version == len(MIGRATIONS):
        return version
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};")
                if conn.execute("PRAGMA foreign_key_check").fetchall():
                    raise RuntimeError(f"schema step {number} left rows without their parent")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return len(MIGRATIONS)
