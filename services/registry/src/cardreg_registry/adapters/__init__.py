"""What the flows talk to: the sqlite store, argon2 hashing, token signing, the identity service."""
