"""Pure rules of the registry: the account aggregate and its lifecycle, sessions and scopes,
the key set, passwords, ID-number hashes, contact details, masking, lockout, reset tokens,
outbox messages. No I/O."""
