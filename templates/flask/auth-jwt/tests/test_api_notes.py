"""Notes through the API (api_notes.py), the example of per-account data:
each account reaches its own notes only, by any route, id or page."""

import importlib

import pytest
from sqlalchemy import insert, select

from .accounts import PASSWORD, bearer, tokens

ADA = "ada@example.com"
BOB = "bob@example.com"


def access(client, email: str, scope: str | None = None) -> dict[str, str]:
    return bearer(tokens(client, email=email, scope=scope)["access_token"])


def write(client, headers, title: str, body: str = "") -> dict:
    response = client.post("/api/v1/notes", json={"title": title, "body": body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def stored_notes(app):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        notes = db.metadata.tables["notes"]
        return db.session.execute(select(notes.c.id, notes.c.user_id, notes.c.title)).all()


def test_an_account_writes_reads_changes_and_deletes_its_notes(client):
    ada = access(client, ADA)
    created = client.post("/api/v1/notes", json={"title": "Groceries", "body": "eggs"}, headers=ada)
    assert created.status_code == 201
    note = created.get_json()
    assert note["title"] == "Groceries" and note["body"] == "eggs"
    assert created.headers["Location"].endswith(f"/api/v1/notes/{note['id']}")
    assert client.get(f"/api/v1/notes/{note['id']}", headers=ada).get_json() == note
    changed = client.put(
        f"/api/v1/notes/{note['id']}", json={"title": "Shopping", "body": "milk"}, headers=ada
    )
    assert changed.status_code == 200
    assert changed.get_json()["title"] == "Shopping"
    listed = client.get("/api/v1/notes", headers=ada).get_json()
    assert [n["title"] for n in listed["notes"]] == ["Shopping"]
    assert (listed["page"], listed["pages"], listed["total"]) == (1, 1, 1)
    assert client.delete(f"/api/v1/notes/{note['id']}", headers=ada).status_code == 204
    assert client.get(f"/api/v1/notes/{note['id']}", headers=ada).status_code == 404
    assert stored_notes(client.application) == []


def test_another_accounts_note_answers_404_to_everything(client, app):
    ada = access(client, ADA)
    note = write(client, ada, "Ada's secret", "only mine")
    bob = access(client, BOB)
    missing = client.get("/api/v1/notes/999999", headers=bob)
    url = f"/api/v1/notes/{note['id']}"
    answers = [
        client.get(url, headers=bob),
        client.put(url, json={"title": "Bob was here"}, headers=bob),
        client.delete(url, headers=bob),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.get_json() == missing.get_json()
        assert b"secret" not in answer.data
    assert client.get("/api/v1/notes", headers=bob).get_json()["notes"] == []
    # Ada's note is untouched.
    assert [(row.title) for row in stored_notes(app)] == ["Ada's secret"]
    assert client.get(url, headers=ada).get_json()["body"] == "only mine"


def test_guessing_ids_finds_nothing_of_anyone_elses(client, app):
    ada = access(client, ADA)
    ids = [write(client, ada, f"note {n}")["id"] for n in range(3)]
    bob = access(client, BOB)
    for note_id in range(1, max(ids) + 5):
        assert client.get(f"/api/v1/notes/{note_id}", headers=bob).status_code == 404
    for page in (1, 2, 0, -1):
        listed = client.get(f"/api/v1/notes?page={page}", headers=bob).get_json()
        assert listed["notes"] == [] and listed["total"] == 0


def test_each_notes_route_refuses_a_token_without_its_scope(client):
    writer = access(client, ADA, scope="notes:write")
    reader = access(client, ADA, scope="notes:read")
    note = client.post("/api/v1/notes", json={"title": "kept"}, headers=writer).get_json()
    url = f"/api/v1/notes/{note['id']}"
    refused = [
        (client.get("/api/v1/notes", headers=writer), "notes:read"),
        (client.get(url, headers=writer), "notes:read"),
        (client.post("/api/v1/notes", json={"title": "x"}, headers=reader), "notes:write"),
        (client.put(url, json={"title": "changed"}, headers=reader), "notes:write"),
        (client.delete(url, headers=reader), "notes:write"),
    ]
    for answer, scope in refused:
        assert answer.status_code == 403
        assert f'error="insufficient_scope", scope="{scope}"' in answer.headers["WWW-Authenticate"]
    assert client.get(url, headers=reader).get_json()["title"] == "kept"


def test_every_notes_route_needs_a_token_with_its_scope(client, app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api_notes.")]
    assert len(rules) == 5
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        writes = bool(rule.methods & {"POST", "PUT", "DELETE"})
        assert view.required_scope == ("notes:write" if writes else "notes:read"), rule
        url = rule.rule.replace("<int:note_id>", "1")
        method = next(iter(rule.methods - {"HEAD", "OPTIONS"}))
        answer = client.open(url, method=method, json={"title": "x"})
        assert answer.status_code == 401, (rule, answer.status_code)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"body": "no title"}, "title: Field required."),
        ({"title": "   "}, "needs a title"),
        ({"title": 7}, "title: Input should be a valid string."),
        ({"title": "ok", "body": ["a"]}, "body: Input should be a valid string."),
        ({"title": "x" * 201}, "title holds at most 200 characters"),
        ({"title": "ok", "body": "x" * 10_001}, "note holds at most 10000 characters"),
        ({"title": "a\x07b"}, "cannot hold control characters"),
        ({"title": "a\nb"}, "cannot hold control characters"),
        ({"title": "ok", "body": "x\x07y"}, "cannot hold control characters"),
        ({"title": "ok", "body": "x\x1by"}, "cannot hold control characters"),
    ],
)
def test_input_is_checked_on_the_server(client, app, body, problem):
    ada = access(client, ADA)
    answer = client.post("/api/v1/notes", json=body, headers=ada)
    assert answer.status_code == 400
    assert problem in answer.get_json()["error"]
    note = write(client, ada, "kept")
    changed = client.put(f"/api/v1/notes/{note['id']}", json=body, headers=ada)
    assert changed.status_code == 400
    assert [row.title for row in stored_notes(app)] == ["kept"]


def test_a_body_keeps_tabs_and_line_breaks(client):
    ada = access(client, ADA)
    assert write(client, ada, "Lines", "one\r\ntwo\tthree")["body"] == "one\r\ntwo\tthree"


def test_a_list_comes_a_page_at_a_time(client, app):
    ada = access(client, ADA)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        user_id = db.session.scalar(select(db.metadata.tables["users"].c.id))
        notes = db.metadata.tables["notes"]
        db.session.execute(
            insert(notes), [{"user_id": user_id, "title": f"n{n}", "body": ""} for n in range(45)]
        )
        db.session.commit()
    first = client.get("/api/v1/notes", headers=ada).get_json()
    assert (len(first["notes"]), first["pages"], first["total"]) == (20, 3, 45)
    last = client.get("/api/v1/notes?page=3", headers=ada).get_json()
    assert len(last["notes"]) == 5
    seen = {
        n["id"]
        for page in (1, 2, 3)
        for n in client.get(f"/api/v1/notes?page={page}", headers=ada).get_json()["notes"]
    }
    assert len(seen) == 45
    # Out of range either way, or not a number: an empty page or the first,
    # never an error.
    assert client.get("/api/v1/notes?page=" + "9" * 30, headers=ada).status_code == 200
    assert client.get("/api/v1/notes?page=4", headers=ada).get_json()["notes"] == []
    assert client.get("/api/v1/notes?page=-5", headers=ada).get_json()["page"] == 1
    assert client.get("/api/v1/notes?page=x", headers=ada).get_json()["page"] == 1


def test_an_account_holds_a_bounded_number_of_notes(client, app, monkeypatch):
    monkeypatch.setattr(
        importlib.import_module(f"{app.import_name}.note_model"), "NOTES_PER_ACCOUNT", 2
    )
    ada = access(client, ADA)
    answers = [
        client.post("/api/v1/notes", json={"title": f"n{n}"}, headers=ada).status_code
        for n in range(3)
    ]
    assert answers == [201, 201, 409]
    assert len(stored_notes(app)) == 2


def test_notes_go_with_the_account(client, app):
    ada = access(client, ADA)
    write(client, ada, "mine")
    bob = access(client, BOB)
    write(client, bob, "Bob's")
    deleted = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=ada)
    assert deleted.status_code == 204
    assert [row.title for row in stored_notes(app)] == ["Bob's"]
