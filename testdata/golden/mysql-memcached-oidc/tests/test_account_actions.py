"""Log out everywhere, and deleting the account's record only after the
provider has had the person log in again (account_actions.py)."""

import time

from sqlalchemy import func, select

from staff_portal.extensions import db
from staff_portal.models import User

from .signin import (
    ask_for_deletion,
    at_provider,
    delete_with_a_new_log_in,
    finish,
    post_from_account_page,
    query_of,
    sign_in,
)


def users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_log_out_everywhere_ends_every_session_here_and_at_the_provider(
    client, app, provider, csrf_token
):
    other = app.test_client()
    sign_in(client)
    sign_in(other)
    ended = post_from_account_page(client, csrf_token, "/account/sessions/end")
    assert ended.status_code == 302
    # On to the provider's log-out, as at log-out: "Log in" asks again.
    assert ended.headers["Location"].startswith(provider.issuer + "/logout?")
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302
    # The account stays; signing in again works.
    assert users(app) == 1
    sign_in(client)
    assert client.get("/account").status_code == 200


def test_deletion_asks_the_provider_for_a_new_log_in_then_deletes(
    client, app, provider, csrf_token
):
    other = app.test_client()
    sign_in(client)
    sign_in(other)
    authorize = ask_for_deletion(client, csrf_token)
    # A link to the provider's log-in, not a redirect from the form.
    assert authorize.startswith(provider.issuer + "/authorize?")
    params = query_of(authorize)
    assert (params["prompt"], params["max_age"]) == ("login", "0")
    assert users(app) == 1  # nothing yet
    done = finish(client, at_provider(authorize))
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert users(app) == 0
    # Every session of the account ended with it.
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 302


def test_the_same_log_in_again_deletes_nothing(client, app, provider, csrf_token):
    """A provider that ignores prompt=login answers with the log-in that
    opened the session."""
    sign_in(client)
    provider.auth_time_mode = "again"
    delete_with_a_new_log_in(client, csrf_token)
    assert users(app) == 1
    page = client.get("/account")
    assert page.status_code == 200
    assert "nothing was deleted" in page.get_data(as_text=True)


def test_a_log_in_from_before_the_request_deletes_nothing(client, app, provider, csrf_token):
    sign_in(client)
    provider.auth_time_offset = -3600
    delete_with_a_new_log_in(client, csrf_token)
    assert users(app) == 1


def test_an_id_token_without_auth_time_deletes_nothing(client, app, provider, csrf_token):
    sign_in(client)
    provider.auth_time_mode = "omit"
    delete_with_a_new_log_in(client, csrf_token)
    assert users(app) == 1


def test_a_request_older_than_ten_minutes_deletes_nothing(client, app, provider, csrf_token):
    sign_in(client)
    authorize = ask_for_deletion(client, csrf_token)
    with client.session_transaction() as session:
        session["account_pending_deletion"]["asked_at"] = int(time.time()) - 601
    finish(client, at_provider(authorize))
    assert users(app) == 1


def test_a_request_made_for_another_account_deletes_nothing(client, app, provider, csrf_token):
    sign_in(client)
    authorize = ask_for_deletion(client, csrf_token)
    with client.session_transaction() as session:
        session["account_pending_deletion"]["user_id"] += 1
    finish(client, at_provider(authorize))
    assert users(app) == 1


def test_another_provider_account_cannot_confirm_the_deletion(client, app, provider, csrf_token):
    sign_in(client)
    authorize = ask_for_deletion(client, csrf_token)
    provider.user.update(sub="user-2", email="eve@example.com", name="Eve")
    finish(client, at_provider(authorize))
    assert users(app) == 1
    # Nor did it sign the other provider account in.
    page = client.get("/account").get_data(as_text=True)
    assert "Ada Lovelace" in page and "Eve" not in page


def test_a_refused_provider_answer_deletes_nothing_and_keeps_the_session(
    client, app, provider, csrf_token
):
    sign_in(client)
    authorize = ask_for_deletion(client, csrf_token)
    provider.tamper = "wrong-nonce"
    answer = finish(client, at_provider(authorize))
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"
    assert users(app) == 1
    page = client.get("/account")
    assert page.status_code == 200 and "nothing was deleted" in page.get_data(as_text=True)
    # The pending deletion went with that round trip.
    with client.session_transaction() as session:
        assert "account_pending_deletion" not in session


def test_the_account_actions_need_the_csrf_token(client, app, provider):
    sign_in(client)
    for path in ("/account/delete", "/account/sessions/end"):
        assert client.post(path).status_code == 400
    assert users(app) == 1
    assert client.get("/account").status_code == 200


def test_the_account_actions_need_a_session(make_app, provider):
    app = make_app(migrated=True, WTF_CSRF_ENABLED=False)
    sign_in(app.test_client())
    for path in ("/account/delete", "/account/sessions/end"):
        answer = app.test_client().post(path)
        assert answer.status_code == 302 and "/account" not in answer.headers["Location"]
    assert users(app) == 1
