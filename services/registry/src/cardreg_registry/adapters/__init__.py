"""What the flows talk to: the sqlite storage (`sqlite/`) and its outbox relay, the key ring
and token signing, the registry secret, argon2 hashing, the identity service."""
