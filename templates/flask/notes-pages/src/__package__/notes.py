"""Notes: an example of data that belongs to one account, to copy when you
add your own (rename Note and its fields in note_model.py, then this file
and the templates in templates/notes/).

Ownership is checked in one place: every query starts from the signed-in
account's notes only (note_model.notes_of). Another account's note, a deleted one and
one that never existed all answer 404 alike, so ids cannot be used to read,
change or delete someone else's data, or to learn which ids exist. Input is
checked on the server (lengths, required title), lists come a page at a
time, and an account holds at most NOTES_PER_ACCOUNT notes.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from .extensions import db
from .note_model import (
    BODY_CONTROLS,
    BODY_LENGTH,
    CONTROLS_REFUSED,
    NOTES_PER_ACCOUNT,
    TITLE_CONTROLS,
    TITLE_LENGTH,
    Note,
    is_full,
    note_of,
    now,
    page_of,
)


class NoteForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_LENGTH)])
    body = TextAreaField("Note", validators=[Length(max=BODY_LENGTH)])

    def validate_title(self, field: StringField) -> None:
        if TITLE_CONTROLS.search(field.data or ""):
            raise ValidationError(CONTROLS_REFUSED)

    def validate_body(self, field: TextAreaField) -> None:
        if BODY_CONTROLS.search(field.data or ""):
            raise ValidationError(CONTROLS_REFUSED)


class DeleteForm(FlaskForm):
    """The delete button: the CSRF token only."""


bp = Blueprint("notes", __name__, url_prefix="/notes")


@bp.before_request
@login_required
def _signed_in_only() -> None:
    """Every page here needs a log-in, including any added later."""


def _own_note(note_id: int) -> Note:
    note = note_of(current_user.id, note_id)
    if note is None:
        abort(404)
    return note


@bp.get("")
def index():
    found = page_of(current_user.id, request.args.get("page", 1, type=int))
    return render_template("notes/index.html", found=found)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NoteForm()
    if form.validate_on_submit():
        if is_full(current_user.id):
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
        note.updated_at = now()
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
