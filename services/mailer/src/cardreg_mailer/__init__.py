"""cardreg mailer: password-reset links and account notices over SMTP, each request sent once."""

__version__ = "0.1.0"
