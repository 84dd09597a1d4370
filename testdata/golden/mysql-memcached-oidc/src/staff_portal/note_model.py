"""Notes: an example of data that belongs to one account, to copy when you
add your own. This file holds the table and the one query every view starts
from; the views that use it are notes.py (pages) or api_notes.py (JSON).

Ownership is checked in one place: `notes_of(user_id)` is the start of every
query, so another account's note, a deleted one and one that never existed
all look the same: missing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

TITLE_LENGTH = 200
BODY_LENGTH = 10_000
PER_PAGE = 20
# Far past any real list, and short of an OFFSET the database cannot take.
MAX_PAGE = 100_000
NOTES_PER_ACCOUNT = 1000
# Control characters: none in a title, and only tab and line breaks in a
# body. PostgreSQL refuses NUL in text outright, and the others are never
# meant, only pasted or forged.
TITLE_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
BODY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROLS_REFUSED = "A note cannot hold control characters."


def now() -> datetime:
    return datetime.now(UTC)


class Note(db.Model):
    __tablename__ = "notes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deleted with the account.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


def text_problem(title: str, body: str) -> str | None:
    """What is wrong with a note's title and body as text, or None; the
    callers check that there is a title."""
    if len(title) > TITLE_LENGTH:
        return f"A title holds at most {TITLE_LENGTH} characters."
    if len(body) > BODY_LENGTH:
        return f"A note holds at most {BODY_LENGTH} characters."
    if TITLE_CONTROLS.search(title) or BODY_CONTROLS.search(body):
        return CONTROLS_REFUSED
    return None


def notes_of(user_id: int) -> Select[tuple[Note]]:
    """One account's notes: the start of every query on notes."""
    return select(Note).where(Note.user_id == user_id)


def note_of(user_id: int, note_id: int) -> Note | None:
    """The account's note with that id, or None: whether it is missing or
    someone else's, the caller cannot tell, and must not."""
    return db.session.scalar(notes_of(user_id).where(Note.id == note_id))


def is_full(user_id: int) -> bool:
    """Whether the account holds NOTES_PER_ACCOUNT notes already."""
    held = db.session.scalar(select(func.count()).select_from(Note).where(Note.user_id == user_id))
    return held >= NOTES_PER_ACCOUNT


def page_of(user_id: int, page: int | None):
    """One page of the account's notes, newest change first; a page number
    out of range is brought to the nearest one that is not."""
    return db.paginate(
        notes_of(user_id).order_by(Note.updated_at.desc(), Note.id.desc()),
        page=min(max(page or 1, 1), MAX_PAGE),
        per_page=PER_PAGE,
        error_out=False,
    )
