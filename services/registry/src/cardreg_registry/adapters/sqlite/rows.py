"""Rows <-> domain values: times as ISO-8601 UTC text with microseconds, so that text order is
time order and comparisons happen in SQL."""

from __future__ import annotations

from datetime import UTC, datetime


def text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def maybe_text(moment: datetime | None) -> str | None:
    return None if moment is None else text(moment)


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def maybe_moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def columns(names: tuple[str, ...], alias: str | None = None) -> str:
    return ", ".join(names if alias is None else (f"{alias}.{name}" for name in names))


def placeholders(count: int) -> str:
    return ", ".join("?" * count)
