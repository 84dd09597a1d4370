"""Notes through the API: the example of data that belongs to one account,
to copy when you add your own (rename Note and its fields in note_model.py,
then this file).

Every query starts from the caller's own notes (note_model.notes_of), so
another account's note, a deleted one and one that never existed all answer
404 alike: ids cannot be used to read, change or delete someone else's data,
or to learn which ids exist. Reading needs a token with the notes:read
scope, writing one with notes:write. Input is checked here (types, lengths,
a title), lists come a page at a time, and an account holds at most
NOTES_PER_ACCOUNT notes.
"""

from __future__ import annotations

from flask import abort, g, jsonify, request, url_for

from . import api_schemas
from .api import token_required
from .api_requests import api_blueprint, error, json_object
from .extensions import db
from .note_model import (
    NOTES_PER_ACCOUNT,
    Note,
    is_full,
    note_of,
    now,
    page_of,
    text_problem,
)
from .openapi import MAX_ID, documented

bp = api_blueprint("api_notes", "/api/v1/notes")


def as_json(note: Note) -> dict[str, object]:
    return {
        "id": note.id,
        "title": note.title,
        "body": note.body,
        "created_at": note.created_at.isoformat(),
        "updated_at": note.updated_at.isoformat(),
    }


def _own_note(note_id: int) -> Note:
    # Past what an id column holds, no note has it (and SQLite cannot bind it).
    note = note_of(g.user.id, note_id) if note_id <= MAX_ID else None
    if note is None:
        abort(404)
    return note


def _title_and_body() -> tuple[str, str] | str:
    """The body's title (required) and body (optional), or what is wrong."""
    values = json_object()
    title, body = values.get("title"), values.get("body", "")
    if not isinstance(title, str) or not title.strip():
        return "A note needs a title (a string)."
    if not isinstance(body, str):
        return "A note's body is a string."
    return text_problem(title, body) or (title, body)


@bp.get("")
@token_required("notes:read")
@documented(
    "The caller's notes, newest change first, 20 to a page",
    responses={200: ("A page of notes.", api_schemas.NotePage)},
    query=(
        {
            "name": "page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "default": 1},
            "description": "Past the last page, an empty list.",
        },
    ),
)
def index():
    """?page=N: the caller's notes, newest change first, 20 to a page."""
    found = page_of(g.user.id, request.args.get("page", 1, type=int))
    return jsonify(
        notes=[as_json(note) for note in found.items],
        page=found.page,
        pages=found.pages,
        total=found.total,
    )


@bp.post("")
@token_required("notes:write")
@documented(
    "Write a note",
    body=api_schemas.NoteBody,
    responses={
        201: ("The note; its address is in Location.", api_schemas.Note),
        400: ("The body does not fit, or the title or body is too long.", api_schemas.Problem),
        409: ("The account holds as many notes as it may.", api_schemas.Problem),
    },
)
def create():
    """{"title", "body"}: 201 with the note, and its address in Location."""
    checked = _title_and_body()
    if isinstance(checked, str):
        return error(checked, 400)
    if is_full(g.user.id):
        return error(f"You have {NOTES_PER_ACCOUNT} notes, the most an account holds.", 409)
    note = Note(user_id=g.user.id, title=checked[0], body=checked[1])
    db.session.add(note)
    db.session.commit()
    response = jsonify(as_json(note))
    response.status_code = 201
    response.headers["Location"] = url_for("api_notes.read", note_id=note.id)
    return response


@bp.get("/<int:note_id>")
@token_required("notes:read")
@documented(
    "One of the caller's notes",
    responses={200: ("The note.", api_schemas.Note)},
)
def read(note_id: int):
    return jsonify(as_json(_own_note(note_id)))


@bp.put("/<int:note_id>")
@token_required("notes:write")
@documented(
    "Replace a note's title and body",
    body=api_schemas.NoteBody,
    responses={
        200: ("The note as it is now.", api_schemas.Note),
        400: ("The body does not fit, or the title or body is too long.", api_schemas.Problem),
    },
)
def replace(note_id: int):
    """{"title", "body"}: the note with both replaced."""
    note = _own_note(note_id)
    checked = _title_and_body()
    if isinstance(checked, str):
        return error(checked, 400)
    note.title, note.body = checked
    note.updated_at = now()
    db.session.commit()
    return jsonify(as_json(note))


@bp.delete("/<int:note_id>")
@token_required("notes:write")
@documented(
    "Delete a note",
    responses={204: ("Deleted.", None)},
)
def delete(note_id: int):
    db.session.delete(_own_note(note_id))
    db.session.commit()
    return "", 204
