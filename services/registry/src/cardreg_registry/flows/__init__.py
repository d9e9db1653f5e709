"""Use cases, one module per flow; each is a callable taking the request model."""
