"""Changing the password and logging out everywhere end every other session,
with any cache choice: each session carries the account's auth_key."""

from .accounts import NEW_PASSWORD, PASSWORD, change_password, log_in, register


def signed_in_clients(app, csrf_token, count=2):
    register(app.test_client(), csrf_token)
    clients = [app.test_client() for _ in range(count)]
    for client in clients:
        log_in(client, csrf_token)
        assert client.get("/account").status_code == 200
    return clients


def test_a_password_change_needs_the_current_password(app, csrf_token, mail_server):
    (client,) = signed_in_clients(app, csrf_token, 1)
    response = change_password(client, csrf_token, current="not my password at all")
    assert response.status_code == 401
    assert "This is not your current password." in response.get_data(as_text=True)
    assert log_in(app.test_client(), csrf_token, password=PASSWORD).status_code == 302


def test_a_new_password_must_meet_the_policy(app, csrf_token, mail_server):
    (client,) = signed_in_clients(app, csrf_token, 1)
    for password, problem in [
        ("short", "at least 12 characters"),
        ("1q2w3e4r5t6y", "most common passwords"),
        ("Ada@Example.com2", "built on your email address"),
    ]:
        response = change_password(client, csrf_token, password=password)
        assert response.status_code == 400
        assert problem in response.get_data(as_text=True)
    assert log_in(app.test_client(), csrf_token, password=PASSWORD).status_code == 302


def test_a_password_change_ends_every_other_session_and_keeps_this_one(
    app, csrf_token, mail_server
):
    here, elsewhere = signed_in_clients(app, csrf_token)
    assert change_password(here, csrf_token).status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    assert log_in(app.test_client(), csrf_token, password=NEW_PASSWORD).status_code == 302
    notice = mail_server.wait_for("ada@example.com", 2)[1]
    assert notice.message["Subject"] == "Your password was changed"


def test_log_out_everywhere_ends_every_session(app, csrf_token, mail_server):
    here, elsewhere = signed_in_clients(app, csrf_token)
    stolen = here.get_cookie("__Host-session").value
    token = csrf_token(here.get("/account").get_data(as_text=True))
    response = here.post("/account/sessions/end", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    assert here.get("/account").status_code == 302
    assert elsewhere.get("/account").status_code == 302
    # A copy of the cookie from before is worthless too, with or without a cache server.
    replay = app.test_client()
    replay.set_cookie("__Host-session", stolen, domain="localhost", secure=True, path="/")
    assert replay.get("/account").status_code == 302


def test_a_copied_cookie_dies_when_the_password_changes(app, csrf_token, mail_server):
    (client,) = signed_in_clients(app, csrf_token, 1)
    replay = app.test_client()
    replay.set_cookie(
        "__Host-session",
        client.get_cookie("__Host-session").value,
        domain="localhost",
        secure=True,
        path="/",
    )
    assert replay.get("/account").status_code == 200
    assert change_password(client, csrf_token).status_code == 302
    assert client.get("/account").status_code == 200
    assert replay.get("/account").status_code == 302


def test_account_changes_need_log_in_and_csrf(app, csrf_token, mail_server):
    anonymous = app.test_client()
    assert anonymous.get("/account/password").status_code == 302
    assert anonymous.post("/account/sessions/end").status_code in (302, 400)
    (client,) = signed_in_clients(app, csrf_token, 1)
    assert client.post("/account/sessions/end").status_code == 400
    assert client.get("/account/sessions/end").status_code == 405
    assert client.get("/account").status_code == 200
