"""What the gateway talks to: JetStream (nonces, events) and the registry over the bus."""
