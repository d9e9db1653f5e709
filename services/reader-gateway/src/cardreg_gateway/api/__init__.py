"""The HTTP API: one module per resource, errors and the edge middleware."""
