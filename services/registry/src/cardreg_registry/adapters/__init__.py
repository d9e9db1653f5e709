"""What the flows talk to: the sqlite store and its outbox relay, argon2 hashing, token signing,
the identity service."""
