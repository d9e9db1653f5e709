"""Use cases the gateway drives: what happens around every card read."""
