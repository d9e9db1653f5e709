"""A check of our own for the schemathesis run (SCHEMATHESIS_HOOKS): where schema-valid data
may meet a 400 (schemathesis.toml), that 400 must say the nonce or the reset token was not
ours — never `invalid_request`, which would mean the schema and the validation disagree."""

from __future__ import annotations

import json

import schemathesis

NOT_OURS = {"nonce_invalid", "reset_token_invalid", "binding_invalid", "setup_invalid"}


@schemathesis.check
def schema_valid_data_is_refused_only_for_unissued_secrets(ctx, response, case) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    if code not in NOT_OURS:
        raise AssertionError(
            f"schema-valid data refused with 400 {code}: the schema allows what the API refuses"
        )
