"""The registry's storage on PostgreSQL: the twin of `adapters/sqlite/`, module for module.

Each repository here mirrors the sqlite one of the same name (same class shape, the same
guards), with PostgreSQL's own SQL: `%s` parameters, timestamptz instead of ISO text, row
locks (`FOR UPDATE`, `FOR SHARE`) where sqlite relies on `BEGIN IMMEDIATE` holding the one
write lock, and `FOR UPDATE SKIP LOCKED` for the relay's claims. To add the twin of a new
sqlite repository: its tables as a new step in `migrations.py`, a module here with the class,
and one attribute in `PgUnitOfWork.__init__`; the conformance suite (tests/storage) then runs
its behaviour tests on both.
"""
