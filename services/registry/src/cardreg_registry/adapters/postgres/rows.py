"""What every repository here shares: column lists and placeholders in PostgreSQL's style."""

from __future__ import annotations

from psycopg import AsyncCursor


def columns(names: tuple[str, ...], alias: str | None = None) -> str:
    return ", ".join(names if alias is None else (f"{alias}.{name}" for name in names))


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def matched(cursor: AsyncCursor) -> int:
    """Rows a statement selected, or changed."""
    return cursor.rowcount
