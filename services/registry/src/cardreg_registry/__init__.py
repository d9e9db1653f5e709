"""cardreg registry: accounts, credentials, sessions, signing keys."""

__version__ = "0.1.0"
