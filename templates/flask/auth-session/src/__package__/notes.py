"""Notes: an example of data that belongs to one account, to copy when you
add your own (rename Note, its fields and the templates in templates/notes/).

Ownership is checked in one place: every query starts from `_mine()`, the
signed-in account's notes only. Another account's note, a deleted one and
one that never existed all answer 404 alike, so ids cannot be used to read,
change or delete someone else's data, or to learn which ids exist. Input is
checked on the server (lengths, required title), lists come a page at a
time, and an account holds at most NOTES_PER_ACCOUNT notes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import DateTime, ForeignKey, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .extensions import db

TITLE_LENGTH = 200
BODY_LENGTH = 10_000
PER_PAGE = 20
# Far past any real list, and short of an OFFSET the database cannot take.
MAX_PAGE = 100_000
NOTES_PER_ACCOUNT = 1000


def _now() -> datetime:
    return datetime.now(UTC)


class Note(db.Model):
    __tablename__ = "notes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deleted with the account.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class NoteForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_LENGTH)])
    body = TextAreaField("Note", validators=[Length(max=BODY_LENGTH)])


class DeleteForm(FlaskForm):
    """The delete button: the CSRF token only."""


bp = Blueprint("notes", __name__, url_prefix="/notes")


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Every page here needs a log-in, including any added later."""


def _mine() -> Select[tuple[Note]]:
    """The signed-in account's notes: the start of every query here."""
    return select(Note).where(Note.user_id == current_user.id)


def _own_note(note_id: int) -> Note:
    note = db.session.scalar(_mine().where(Note.id == note_id))
    if note is None:
        abort(404)
    return note


@bp.get("")
def index():
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    found = db.paginate(
        _mine().order_by(Note.updated_at.desc(), Note.id.desc()),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("notes/index.html", found=found)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NoteForm()
    if form.validate_on_submit():
        held = db.session.scalar(
            select(func.count()).select_from(Note).where(Note.user_id == current_user.id)
        )
        if held >= NOTES_PER_ACCOUNT:
            flash(f"You have {NOTES_PER_ACCOUNT} notes, the most an account holds.", "error")
            return render_template("notes/edit.html", form=form, note=None), 400
        note = Note(user_id=current_user.id, title=form.title.data, body=form.body.data or "")
        db.session.add(note)
        db.session.commit()
        flash("Note saved.", "info")
        return redirect(url_for("notes.index"))
    return render_template("notes/edit.html", form=form, note=None), 400 if form.errors else 200


@bp.route("/<int:note_id>", methods=["GET", "POST"])
def edit(note_id: int):
    note = _own_note(note_id)
    form = NoteForm(obj=note)
    if form.validate_on_submit():
        note.title, note.body = form.title.data, form.body.data or ""
        note.updated_at = _now()
        db.session.commit()
        flash("Note saved.", "info")
        return redirect(url_for("notes.index"))
    page = render_template("notes/edit.html", form=form, note=note, delete_form=DeleteForm())
    return page, 400 if form.errors else 200


@bp.post("/<int:note_id>/delete")
def delete(note_id: int):
    if not DeleteForm().validate_on_submit():
        abort(400)
    note = _own_note(note_id)
    db.session.delete(note)
    db.session.commit()
    flash("Note deleted.", "info")
    return redirect(url_for("notes.index"))
