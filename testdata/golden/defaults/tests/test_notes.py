"""Notes (notes.py), the example of per-account data: each account sees
and changes its own notes only. Another account's note answers 404 to
reading, editing and deleting, by its id or by guessing ids; lists come a
page at a time; input is checked on the server."""

import importlib
import re

import pytest
from sqlalchemy import insert, select

from .accounts import delete_account, log_in, log_out_everywhere, register

ADA = "ada@example.com"
GRACE = "grace@example.com"


@pytest.fixture
def app(make_app):
    # Two accounts log in per test, more in some: above the per-client limit.
    return make_app(migrated=True, LOGIN_RATE_LIMIT="100 per minute")


@pytest.fixture
def logged_in(app, csrf_token, mail_server):
    """Log in to the account at an address in a new browser, and return it."""

    def browser(email):
        client = app.test_client()
        assert log_in(client, csrf_token, email=email).status_code == 302
        return client

    return browser


@pytest.fixture
def signed_in(app, csrf_token, logged_in):
    """Register an account at an address, log in to it in a new browser,
    and return the browser."""

    def browser(email):
        register(app.test_client(), csrf_token, email=email)
        return logged_in(email)

    return browser


def write(client, csrf_token, title, body="", path="/notes/new"):
    token = csrf_token(client.get("/notes/new").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "title": title, "body": body})


def note_ids(app, email):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users, notes = (db.metadata.tables[name] for name in ("users", "notes"))
        return db.session.scalars(
            select(notes.c.id)
            .join(users, users.c.id == notes.c.user_id)
            .where(users.c.email == email)
        ).all()


def stored(app, note_id):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        notes = db.metadata.tables["notes"]
        return db.session.execute(select(notes).where(notes.c.id == note_id)).one_or_none()


def listed_titles(client, query=""):
    html = client.get("/notes" + query).get_data(as_text=True)
    return re.findall(r'<a href="/notes/\d+">([^<]+)</a>', html)


def test_an_account_writes_reads_changes_and_deletes_its_notes(app, csrf_token, signed_in):
    ada = signed_in(ADA)
    assert write(ada, csrf_token, "Groceries", "eggs, flour").status_code == 302
    (note_id,) = note_ids(app, ADA)
    assert listed_titles(ada) == ["Groceries"]
    page = ada.get(f"/notes/{note_id}")
    assert page.status_code == 200 and "eggs, flour" in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    ada.post(f"/notes/{note_id}", data={"csrf_token": token, "title": "Shopping", "body": "milk"})
    assert (stored(app, note_id).title, stored(app, note_id).body) == ("Shopping", "milk")
    assert ada.post(f"/notes/{note_id}/delete", data={"csrf_token": token}).status_code == 302
    assert stored(app, note_id) is None


def test_another_accounts_note_answers_404_to_everything(app, csrf_token, signed_in):
    ada = signed_in(ADA)
    write(ada, csrf_token, "Ada secret", "the formula")
    (note_id,) = note_ids(app, ADA)
    grace = signed_in(GRACE)
    token = csrf_token(grace.get("/notes/new").get_data(as_text=True))
    read = grace.get(f"/notes/{note_id}")
    assert read.status_code == 404 and "the formula" not in read.get_data(as_text=True)
    changed = grace.post(
        f"/notes/{note_id}", data={"csrf_token": token, "title": "mine now", "body": ""}
    )
    assert changed.status_code == 404
    assert grace.post(f"/notes/{note_id}/delete", data={"csrf_token": token}).status_code == 404
    assert stored(app, note_id).title == "Ada secret"
    assert listed_titles(grace) == []
    # A missing note answers exactly the same: ids tell nothing.
    missing = grace.get(f"/notes/{note_id + 1000}")
    assert (missing.status_code, missing.get_data()) == (404, read.get_data())


def test_guessing_ids_finds_nothing_of_anyone_elses(app, csrf_token, signed_in):
    ada = signed_in(ADA)
    for n in range(5):
        write(ada, csrf_token, f"ada {n}")
    grace = signed_in(GRACE)
    write(grace, csrf_token, "grace own")
    (own,) = note_ids(app, GRACE)
    opened = [n for n in range(1, 60) if grace.get(f"/notes/{n}").status_code != 404]
    assert opened == [own]
    assert listed_titles(grace) == ["grace own"]
    assert sorted(listed_titles(ada)) == [f"ada {n}" for n in range(5)]


def test_every_notes_page_needs_a_log_in(app, csrf_token, signed_in, logged_in):
    ada = signed_in(ADA)
    write(ada, csrf_token, "Private")
    (note_id,) = note_ids(app, ADA)
    # A browser whose session has ended still holds a valid CSRF token, so
    # its POSTs get past that check to the log-in check; a fresh visitor's
    # GETs need no token.
    ended = logged_in(ADA)
    token = csrf_token(ended.get("/notes/new").get_data(as_text=True))
    assert log_out_everywhere(ada, csrf_token).status_code == 302
    visitor = app.test_client()
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("notes.")]
    assert len(rules) == 4
    for rule in rules:
        path = rule.rule.replace("<int:note_id>", str(note_id))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answers = [ended.open(path, method=method, data={"csrf_token": token, "title": "x"})]
            if method == "GET":
                answers.append(visitor.get(path))
            for response in answers:
                assert response.status_code == 302, (method, path)
                assert "/auth/login" in response.headers["Location"]
    assert stored(app, note_id).title == "Private"


def test_input_is_checked_on_the_server(app, csrf_token, signed_in):
    ada = signed_in(ADA)
    assert write(ada, csrf_token, "").status_code == 400
    assert write(ada, csrf_token, "t" * 201).status_code == 400
    assert write(ada, csrf_token, "ok", "b" * 10_001).status_code == 400
    # Control characters: none in a title, only tab and line breaks in a body
    # (NUL, which PostgreSQL refuses in text, never reaches a view: tests/test_limits.py).
    for title, body in [("a\x07b", ""), ("a\nb", ""), ("ok", "x\x07y"), ("ok", "x\x1by")]:
        answer = write(ada, csrf_token, title, body)
        assert answer.status_code == 400
        assert "cannot hold control characters" in answer.get_data(as_text=True)
    assert note_ids(app, ADA) == []
    assert write(ada, csrf_token, "Lines", "one\r\ntwo\tthree").status_code == 302
    # Markup is stored as typed and shown as text.
    write(ada, csrf_token, "<script>alert(1)</script>")
    html = ada.get("/notes").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_a_list_comes_a_page_at_a_time(app, csrf_token, signed_in):
    ada = signed_in(ADA)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users, notes = (db.metadata.tables[name] for name in ("users", "notes"))
        owner = db.session.scalar(select(users.c.id).where(users.c.email == ADA))
        db.session.execute(
            insert(notes),
            [{"user_id": owner, "title": f"note {n:02}", "body": ""} for n in range(45)],
        )
        db.session.commit()
    pages = [listed_titles(ada, f"?page={n}") for n in (1, 2, 3)]
    assert [len(page) for page in pages] == [20, 20, 5]
    assert len({title for page in pages for title in page}) == 45
    for query in ("?page=0", "?page=-1", "?page=abc"):
        assert listed_titles(ada, query) == pages[0]
    assert listed_titles(ada, "?page=999") == []
    assert ada.get("/notes?page=" + "9" * 30).status_code == 200


def test_an_account_holds_a_bounded_number_of_notes(app, csrf_token, signed_in, monkeypatch):
    note_model = importlib.import_module(f"{app.import_name}.note_model")
    monkeypatch.setattr(note_model, "NOTES_PER_ACCOUNT", 2)
    ada = signed_in(ADA)
    assert [write(ada, csrf_token, f"n{n}").status_code for n in range(3)] == [302, 302, 400]
    assert len(note_ids(app, ADA)) == 2


def test_notes_go_with_the_account(app, csrf_token, signed_in):
    grace = signed_in(GRACE)
    write(grace, csrf_token, "Stays")
    # Ada last: a deletion asks for a new log-in, which is the last person's.
    ada = signed_in(ADA)
    write(ada, csrf_token, "Gone soon")
    # Deleted through the account's own page, as its owner deletes it.
    assert delete_account(ada, csrf_token).status_code == 302
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        notes = db.metadata.tables["notes"]
        left = db.session.scalars(select(notes.c.title)).all()
    assert left == ["Stays"]
