"""Pydantic models of every message on the bus, grouped by owner."""
