"""My health passbook: an example relying service of cardreg (OpenID Connect)."""
