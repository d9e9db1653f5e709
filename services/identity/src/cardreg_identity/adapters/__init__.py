"""Adapters: the sqlite database (schema, service store, bulk writer) and card keys."""
