"""cardreg identity: people, the card roster, card and household / residence verification."""

__version__ = "0.1.0"
