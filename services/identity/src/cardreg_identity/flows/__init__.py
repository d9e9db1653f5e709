"""Use cases: one module per flow, talking to the store through `ports`."""
