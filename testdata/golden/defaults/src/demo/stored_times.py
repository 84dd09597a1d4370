"""Times read back from the database, made comparable."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """MOMENT as an aware time in UTC. Every value this app stores is UTC, but
    SQLite and MySQL hand it back naive; PostgreSQL hands it back aware, in the
    connection's time zone."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
