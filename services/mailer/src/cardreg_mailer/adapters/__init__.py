"""The mailer's outside world: the sqlite send ledger, the templates, SMTP."""
