"""Changing the account's address and deleting the account, against a real
SMTP server: both need the current password, a new address counts only once
its mailed link is used, the form tells nobody which addresses are taken,
and each ends every session of the account."""

import re
import time

from itsdangerous import TimestampSigner

from .accounts import (
    NEW_PASSWORD,
    PASSWORD,
    address_change_link,
    change_address,
    change_password,
    delete_account,
    log_in,
    register,
    use_address_change_link,
)

NEW_ADDRESS = "grace@example.com"


def signed_in(app, csrf_token, count=1):
    register(app.test_client(), csrf_token)
    clients = [app.test_client() for _ in range(count)]
    for client in clients:
        assert log_in(client, csrf_token).status_code == 302
    return clients


def same_but_for(response, address):
    """The page without the address it names and without the log-out form's
    CSRF token (signed with the second it was made in)."""
    page = response.get_data(as_text=True).replace(address, "@")
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def subjects(app, mail_server, recipient):
    return [m.message["Subject"] for m in mail_server.settle(app) if recipient in m.recipients]


def test_a_new_address_counts_once_its_link_is_used(app, csrf_token, mail_server):
    here, elsewhere = signed_in(app, csrf_token, 2)
    response = change_address(here, csrf_token, "Grace@Example.com")
    assert response.status_code == 200
    assert "Check your new address's mail" in response.get_data(as_text=True)
    link = address_change_link(mail_server, NEW_ADDRESS)
    # Nothing changes until the link is used.
    assert here.get("/account").status_code == 200
    assert log_in(app.test_client(), csrf_token).status_code == 302

    stranger = app.test_client()
    page = stranger.get(link)
    assert page.status_code == 200
    assert NEW_ADDRESS in page.get_data(as_text=True)
    response = use_address_change_link(stranger, csrf_token, link)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")

    assert here.get("/account").status_code == 302
    assert elsewhere.get("/account").status_code == 302
    assert log_in(app.test_client(), csrf_token).status_code == 401
    fresh = app.test_client()
    assert log_in(fresh, csrf_token, email=NEW_ADDRESS).status_code == 302
    assert NEW_ADDRESS in fresh.get("/account").get_data(as_text=True)
    notice = mail_server.wait_for("ada@example.com", 1, having=re.compile("was just changed"))[0]
    assert notice.message["Subject"] == "Your account's email address was changed"
    assert "g…@example.com" in notice.text()
    assert NEW_ADDRESS not in notice.message.as_string()
    assert "token=" not in notice.text()


def test_an_address_change_needs_the_current_password(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    response = change_address(client, csrf_token, NEW_ADDRESS, current="not my password at all")
    assert response.status_code == 401
    assert "This is not your current password." in response.get_data(as_text=True)
    assert subjects(app, mail_server, NEW_ADDRESS) == []


def test_the_answer_is_the_same_for_a_taken_address(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token, email="bob@example.com")
    (client,) = signed_in(app, csrf_token)
    free = change_address(client, csrf_token, NEW_ADDRESS)
    taken = change_address(client, csrf_token, "bob@example.com")
    assert free.status_code == taken.status_code == 200
    assert same_but_for(free, NEW_ADDRESS) == same_but_for(taken, "bob@example.com")
    # Bob's mails: his confirmation link at registration, then the notice.
    notice = mail_server.wait_for("bob@example.com", 2)[1]
    assert notice.message["Subject"] == "Someone tried to move an account to your address"
    assert "token=" not in notice.text()
    address_change_link(mail_server, NEW_ADDRESS)
    assert subjects(app, mail_server, NEW_ADDRESS) == ["Confirm your new email address"]
    assert len(subjects(app, mail_server, "bob@example.com")) == 2


def test_the_account_keeps_its_address_if_another_takes_it_first(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    change_address(client, csrf_token, NEW_ADDRESS)
    link = address_change_link(mail_server, NEW_ADDRESS)
    register(app.test_client(), csrf_token, email=NEW_ADDRESS, password=NEW_PASSWORD)
    response = use_address_change_link(app.test_client(), csrf_token, link)
    assert response.status_code == 409
    assert "This address has an account now" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 200
    assert log_in(app.test_client(), csrf_token).status_code == 302


def test_the_current_address_is_refused(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    response = change_address(client, csrf_token, "ADA@example.COM")
    assert response.status_code == 400
    assert "This is already your address." in response.get_data(as_text=True)


def test_an_address_change_link_works_once(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    change_address(client, csrf_token, NEW_ADDRESS)
    link = address_change_link(mail_server, NEW_ADDRESS)
    assert use_address_change_link(app.test_client(), csrf_token, link).status_code == 302
    again = app.test_client().get(link)
    assert again.status_code == 400
    assert "This link does not work" in again.get_data(as_text=True)


def test_an_address_change_link_dies_even_if_the_address_comes_back(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    change_address(client, csrf_token, NEW_ADDRESS)
    to_grace = address_change_link(mail_server, NEW_ADDRESS)
    assert use_address_change_link(app.test_client(), csrf_token, to_grace).status_code == 302
    back = app.test_client()
    assert log_in(back, csrf_token, email=NEW_ADDRESS).status_code == 302
    change_address(back, csrf_token, "ada@example.com")
    to_ada = address_change_link(mail_server, "ada@example.com")
    assert use_address_change_link(app.test_client(), csrf_token, to_ada).status_code == 302
    # Address and password are what they were when the first link was sent.
    assert app.test_client().get(to_grace).status_code == 400
    assert log_in(app.test_client(), csrf_token).status_code == 302


def test_a_password_change_voids_an_address_change_link(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    change_address(client, csrf_token, NEW_ADDRESS)
    link = address_change_link(mail_server, NEW_ADDRESS)
    assert change_password(client, csrf_token).status_code == 302
    assert app.test_client().get(link).status_code == 400


def test_an_address_change_link_expires(app, csrf_token, mail_server, monkeypatch):
    (client,) = signed_in(app, csrf_token)
    change_address(client, csrf_token, NEW_ADDRESS)
    link = address_change_link(mail_server, NEW_ADDRESS)
    hours = app.config["EMAIL_VERIFICATION_HOURS"]
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + hours * 3600 - 60)
    assert app.test_client().get(link).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + hours * 3600 + 5)
    assert app.test_client().get(link).status_code == 400


def test_a_tampered_link_opens_nothing(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    change_address(client, csrf_token, NEW_ADDRESS)
    link = address_change_link(mail_server, NEW_ADDRESS)
    prefix, _, signature = link.rpartition(".")
    forged = prefix + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert app.test_client().get(forged).status_code == 400


def test_deleting_the_account_needs_the_current_password(app, csrf_token, mail_server):
    (client,) = signed_in(app, csrf_token)
    response = delete_account(client, csrf_token, current="not my password at all")
    assert response.status_code == 401
    assert client.get("/account").status_code == 200
    assert log_in(app.test_client(), csrf_token).status_code == 302


def test_deleting_the_account_removes_it_and_ends_every_session(app, csrf_token, mail_server):
    here, elsewhere = signed_in(app, csrf_token, 2)
    response = delete_account(here, csrf_token)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Your account has been deleted" in here.get("/").get_data(as_text=True)
    assert here.get("/account").status_code == 302
    assert elsewhere.get("/account").status_code == 302
    assert log_in(app.test_client(), csrf_token).status_code == 401
    deleted = re.compile("Your account was deleted")
    assert mail_server.wait_for("ada@example.com", 1, having=deleted)[0].message["Subject"] == (
        "Your account was deleted"
    )
    # The address is free again.
    assert register(app.test_client(), csrf_token, password=NEW_PASSWORD).status_code == 200
    assert log_in(app.test_client(), csrf_token, password=NEW_PASSWORD).status_code == 302
    assert log_in(app.test_client(), csrf_token, password=PASSWORD).status_code == 401


def test_account_changes_need_log_in_and_csrf(app, csrf_token, mail_server):
    anonymous = app.test_client()
    for path in ("/account/email", "/account/delete"):
        assert anonymous.get(path).status_code == 302
    (client,) = signed_in(app, csrf_token)
    assert client.post("/account/delete", data={"current": PASSWORD}).status_code == 400
    changing = {"email": NEW_ADDRESS, "current": PASSWORD}
    assert client.post("/account/email", data=changing).status_code == 400
    assert client.get("/account").status_code == 200
