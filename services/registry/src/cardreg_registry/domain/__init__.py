"""Pure rules of the registry: accounts, passwords, contact details, masking, lockout, reset
tokens, outbox messages. No I/O."""
