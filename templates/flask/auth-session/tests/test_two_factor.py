"""Two-factor log-in (two_factor.py, two_factor_views.py): turning it on
proves the app holds the secret; once on, every log-in needs a code after the
password, no other route (a password reset included) skips it, a code works
once, recovery codes work once and are stored as digests, attempts are
limited per account, and every change is an event and a mail."""

import base64
import importlib
import re
import time
from urllib.parse import unquote

import pyotp
from sqlalchemy import select

from .accounts import (
    EMAIL,
    NEW_PASSWORD,
    PASSWORD,
    change_password,
    choose_password,
    log_in,
    log_out,
    register,
    request_reset,
    reset_link,
)
from .test_security_events import kinds

ADA = "ada@example.com"


def module(app, name):
    return importlib.import_module(f"{app.import_name}.{name}")


def setup_page(client):
    page = client.get("/account/two-factor/setup")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def secret_on(html):
    return (
        re.search(r'<code class="totp-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    )


def turn_on(client, csrf_token, password=PASSWORD, code=None):
    """Set up two-factor log-in like a user with an authenticator app: the
    secret from the page, the code the app would show. (response, secret)."""
    html = setup_page(client)
    secret = secret_on(html)
    response = client.post(
        "/account/two-factor/setup",
        data={
            "csrf_token": csrf_token(html),
            "current": password,
            "code": pyotp.TOTP(secret).now() if code is None else code,
        },
    )
    return response, secret


def next_code(secret):
    """The code the app shows in the next time step: the current one was
    spent turning two-factor log-in on, and a code works once."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def recovery_codes(response):
    return re.findall(r"<li><code>([0-9a-z-]+)</code></li>", response.get_data(as_text=True))


def signed_in(app, csrf_token):
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    return client


def with_two_factor(app, csrf_token):
    """An account with two-factor log-in on: (its client, secret, recovery codes)."""
    client = signed_in(app, csrf_token)
    response, secret = turn_on(client, csrf_token)
    assert response.status_code == 200
    return client, secret, recovery_codes(response)


def enter_code(client, csrf_token, code):
    page = client.get("/auth/two-factor")
    assert page.status_code == 200, page.status_code
    return client.post(
        "/auth/two-factor",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "code": code},
    )


def password_step(app, csrf_token, password=PASSWORD):
    client = app.test_client()
    response = log_in(client, csrf_token, password=password)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/two-factor")
    return client


def stored_user(app, email=ADA):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = db.metadata.tables["users"]
        return db.session.execute(select(users).where(users.c.email == email)).one()


def stored_digests(app):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        return db.session.scalars(select(db.metadata.tables["recovery_codes"].c.digest)).all()


def test_turning_it_on_needs_the_password_and_a_code_from_the_secret(app, csrf_token, mail_server):
    client = signed_in(app, csrf_token)
    response, _ = turn_on(client, csrf_token, password="not my password at all")
    assert response.status_code == 401
    assert "This is not your current password." in response.get_data(as_text=True)
    response, _ = turn_on(client, csrf_token, code="000000")
    assert response.status_code == 400
    assert "This code does not match" in response.get_data(as_text=True)
    assert stored_user(app).totp_secret is None

    response, _ = turn_on(client, csrf_token)
    assert response.status_code == 200
    codes = recovery_codes(response)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-z]{4}(-[0-9a-z]{4}){3}", code) for code in codes)
    assert "on" in client.get("/account/two-factor").get_data(as_text=True)
    notice = mail_server.wait_for(ADA, 2)[1]
    assert notice.message["Subject"] == "Two-factor log-in was turned on"
    assert kinds(app)[-2:] == ["two_factor_change_failed", "two_factor_enabled"]


def test_the_set_up_page_draws_its_qr_code_without_script(app, csrf_token, mail_server):
    client = signed_in(app, csrf_token)
    page = client.get("/account/two-factor/setup")
    html = page.get_data(as_text=True)
    src = re.search(r'<img class="qr-code" src="([^"]+)"', html).group(1)
    assert src.startswith("data:image/svg+xml")
    svg = unquote(src.partition(",")[2])
    if ";base64" in src.partition(",")[0]:
        svg = base64.b64decode(svg).decode()
    assert "<svg" in svg and "<path" in svg
    assert "<script" not in svg.lower() and "<script" not in html.lower()
    # The same policy as every page: nothing loosened for the set-up.
    assert (
        page.headers["Content-Security-Policy"]
        == client.get("/").headers["Content-Security-Policy"]
    )
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    with app.test_request_context():
        uri = module(app, "two_factor").setup_uri(secret_on(html), ADA)
    assert uri.startswith("otpauth://totp/") and f"secret={secret_on(html)}" in uri
    assert "issuer=" in uri


def test_every_visit_to_the_set_up_makes_a_new_secret(app, csrf_token, mail_server):
    client = signed_in(app, csrf_token)
    first, second = secret_on(setup_page(client)), secret_on(setup_page(client))
    assert first != second and len(first) == 32
    # The first one's code no longer turns it on.
    html = setup_page(client)
    response = client.post(
        "/account/two-factor/setup",
        data={"csrf_token": csrf_token(html), "current": PASSWORD, "code": pyotp.TOTP(first).now()},
    )
    assert response.status_code == 400


def test_the_recovery_codes_page_logs_out(app, csrf_token, mail_server):
    # It is drawn in the request that renewed the session: its forms carry the new session's token.
    client = signed_in(app, csrf_token)
    response, _ = turn_on(client, csrf_token)
    token = csrf_token(response.get_data(as_text=True))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


def test_turning_it_on_ends_every_other_session(app, csrf_token, mail_server):
    client = signed_in(app, csrf_token)
    elsewhere = app.test_client()
    assert log_in(elsewhere, csrf_token).status_code == 302
    assert turn_on(client, csrf_token)[0].status_code == 200
    assert client.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302


def test_log_in_asks_for_the_code_after_the_password(app, csrf_token, mail_server):
    _, secret, _ = with_two_factor(app, csrf_token)
    client = password_step(app, csrf_token)
    # Not signed in yet: the account page sends it back to log in.
    assert client.get("/account").status_code == 302
    assert enter_code(client, csrf_token, next_code(secret)).status_code == 302
    assert client.get("/account").status_code == 200
    assert kinds(app)[-1] == "login"


def test_a_wrong_password_never_reaches_the_code(app, csrf_token, mail_server):
    with_two_factor(app, csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token, password="not my password at all").status_code == 401
    assert client.get("/auth/two-factor").status_code == 302


def test_no_page_opens_between_the_password_and_the_code(app, csrf_token, mail_server):
    with_two_factor(app, csrf_token)
    client = password_step(app, csrf_token)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        if rule.endpoint == "two_factor_views.login_code":
            continue
        # Every page answers exactly as it answers a visitor who never logged in.
        pending, anonymous = client.get(rule.rule), app.test_client().get(rule.rule)
        assert pending.status_code == anonymous.status_code, rule.rule
        assert pending.headers.get("Location") == anonymous.headers.get("Location"), rule.rule
        assert ADA not in pending.get_data(as_text=True).lower(), rule.rule
        checked += 1
    assert checked >= 10
    # Nor does a posted form of a signed-in user.
    token = csrf_token(client.get("/auth/two-factor").get_data(as_text=True))
    response = client.post("/account/sessions/end", data={"csrf_token": token})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_password_reset_does_not_skip_the_second_factor(app, csrf_token, mail_server):
    _, secret, _ = with_two_factor(app, csrf_token)
    client = app.test_client()
    request_reset(client, csrf_token)
    assert choose_password(client, csrf_token, reset_link(mail_server)).status_code == 302
    assert client.get("/account").status_code == 302
    assert stored_user(app).totp_secret is not None
    client = password_step(app, csrf_token, password=NEW_PASSWORD)
    assert client.get("/account").status_code == 302
    assert enter_code(client, csrf_token, next_code(secret)).status_code == 302
    assert client.get("/account").status_code == 200


def test_a_code_from_a_step_either_side_works_and_one_further_does_not(app):
    two_factor = module(app, "two_factor")
    secret = pyotp.random_base32(32)
    totp = pyotp.TOTP(secret)
    now = 1_800_000_015.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        code = totp.at((step + offset) * 30)
        assert two_factor.matching_step(secret, code, now) == step + offset
    for offset in (-2, 2):
        assert two_factor.matching_step(secret, totp.at((step + offset) * 30), now) is None
    for malformed in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert two_factor.matching_step(secret, malformed, now) is None


def test_a_code_is_accepted_once(app, csrf_token, mail_server):
    _, secret, _ = with_two_factor(app, csrf_token)
    # The code that turned it on (of the step it claimed) is spent already.
    spent = pyotp.TOTP(secret).generate_otp(stored_user(app).totp_last_step)
    client = password_step(app, csrf_token)
    assert enter_code(client, csrf_token, spent).status_code == 401
    code = next_code(secret)
    assert enter_code(client, csrf_token, code).status_code == 302
    log_out(client, csrf_token)
    client = password_step(app, csrf_token)
    response = enter_code(client, csrf_token, code)
    assert response.status_code == 401
    assert "used already" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_two_claims_of_one_step_cannot_both_win(app, csrf_token, mail_server):
    with_two_factor(app, csrf_token)
    two_factor, models = module(app, "two_factor"), module(app, "models")
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        user = db.session.scalar(select(models.User))
        step = user.totp_last_step + 5
        assert two_factor.claim_step(user, step) is True
        assert two_factor.claim_step(user, step) is False
        assert two_factor.claim_step(user, step - 1) is False
        assert two_factor.claim_step(user, step + 1) is True


def test_a_recovery_code_logs_in_once(app, csrf_token, mail_server):
    _, _, codes = with_two_factor(app, csrf_token)
    client = password_step(app, csrf_token)
    # Typed in capitals, with spaces: still the code.
    response = enter_code(client, csrf_token, codes[3].upper().replace("-", " "))
    assert response.status_code == 302
    assert "9 left" in client.get("/account").get_data(as_text=True)
    assert kinds(app)[-2:] == ["recovery_code_used", "login"]
    client = password_step(app, csrf_token)
    assert enter_code(client, csrf_token, codes[3]).status_code == 401
    assert enter_code(client, csrf_token, codes[4]).status_code == 302


def test_recovery_codes_are_stored_as_digests_only(app, csrf_token, mail_server):
    _, _, codes = with_two_factor(app, csrf_token)
    digests = stored_digests(app)
    assert len(digests) == 10
    stored = " ".join(digests)
    for code in codes:
        assert code.replace("-", "") not in stored and code not in stored


def test_new_recovery_codes_need_the_password_and_void_the_old_ones(app, csrf_token, mail_server):
    client, _, old = with_two_factor(app, csrf_token)
    page = client.get("/account/two-factor").get_data(as_text=True)
    before = sorted(stored_digests(app))
    refused = client.post(
        "/account/two-factor/recovery-codes",
        data={"codes-csrf_token": csrf_token(page), "codes-current": "not my password at all"},
    )
    assert refused.status_code == 401
    assert sorted(stored_digests(app)) == before
    response = client.post(
        "/account/two-factor/recovery-codes",
        data={"codes-csrf_token": csrf_token(page), "codes-current": PASSWORD},
    )
    new = recovery_codes(response)
    assert response.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert "recovery_codes_renewed" in kinds(app)
    assert enter_code(password_step(app, csrf_token), csrf_token, old[0]).status_code == 401
    assert enter_code(password_step(app, csrf_token), csrf_token, new[0]).status_code == 302


def test_turning_it_off_needs_the_password(app, csrf_token, mail_server):
    client, _, _ = with_two_factor(app, csrf_token)
    page = client.get("/account/two-factor").get_data(as_text=True)
    refused = client.post(
        "/account/two-factor/off",
        data={"off-csrf_token": csrf_token(page), "off-current": "not my password at all"},
    )
    assert refused.status_code == 401
    assert stored_user(app).totp_secret is not None
    response = client.post(
        "/account/two-factor/off",
        data={"off-csrf_token": csrf_token(page), "off-current": PASSWORD},
    )
    assert response.status_code == 302
    assert stored_user(app).totp_secret is None and stored_digests(app) == []
    assert kinds(app)[-2:] == ["two_factor_change_failed", "two_factor_disabled"]
    subjects = [mail.message["Subject"] for mail in mail_server.wait_for(ADA, 3)]
    assert subjects[-1] == "Two-factor log-in was turned off"
    # The password alone logs in again.
    assert log_in(app.test_client(), csrf_token).headers["Location"].endswith("/account")


def test_the_pending_log_in_expires(app, csrf_token, mail_server, monkeypatch):
    _, secret, _ = with_two_factor(app, csrf_token)
    client = password_step(app, csrf_token)
    monkeypatch.setattr(module(app, "two_factor"), "PENDING_SECONDS", 0)
    page = client.get("/auth/two-factor")
    assert page.status_code == 302 and page.headers["Location"].endswith("/auth/login")


def test_a_password_change_voids_a_pending_log_in(app, csrf_token, mail_server):
    owner, secret, _ = with_two_factor(app, csrf_token)
    pending = password_step(app, csrf_token)
    assert change_password(owner, csrf_token).status_code == 302
    assert pending.get("/auth/two-factor").status_code == 302


def test_attempts_are_limited_per_account_before_any_code_is_checked(
    make_app, csrf_token, mail_server
):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", TWO_FACTOR_RATE_LIMIT="3 per hour"
    )
    _, secret, _ = with_two_factor(app, csrf_token)
    # Three wrong codes, each from another browser.
    for _ in range(3):
        assert enter_code(password_step(app, csrf_token), csrf_token, "000000").status_code == 401
    # Now even the right code is not checked.
    client = password_step(app, csrf_token)
    response = enter_code(client, csrf_token, next_code(secret))
    assert response.status_code == 429
    assert client.get("/account").status_code == 302
    assert kinds(app).count("two_factor_failed") == 3


def test_the_owners_browser_keeps_its_own_allowance(make_app, csrf_token, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", TWO_FACTOR_RATE_LIMIT="2 per hour"
    )
    owner, secret, _ = with_two_factor(app, csrf_token)
    # The owner's browser holds the account's device cookie from turning it on.
    assert owner.get_cookie("__Host-device") is not None
    log_out(owner, csrf_token)
    for _ in range(2):
        assert enter_code(password_step(app, csrf_token), csrf_token, "000000").status_code == 401
    assert enter_code(password_step(app, csrf_token), csrf_token, "000000").status_code == 429
    assert log_in(owner, csrf_token).status_code == 302
    assert enter_code(owner, csrf_token, next_code(secret)).status_code == 302
    assert owner.get("/account").status_code == 200


def test_a_password_reset_does_not_start_the_allowance_afresh(make_app, csrf_token, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", TWO_FACTOR_RATE_LIMIT="1 per hour"
    )
    _, secret, _ = with_two_factor(app, csrf_token)
    assert enter_code(password_step(app, csrf_token), csrf_token, "000000").status_code == 401
    assert enter_code(password_step(app, csrf_token), csrf_token, "000000").status_code == 429
    # Whoever holds the mailbox resets the password: the reset's device cookie
    # proves the mailbox, not the second factor, so it shares the spent allowance.
    client = app.test_client()
    request_reset(client, csrf_token)
    assert choose_password(client, csrf_token, reset_link(mail_server)).status_code == 302
    assert client.get_cookie("__Host-device") is not None
    response = log_in(client, csrf_token, password=NEW_PASSWORD)
    assert response.headers["Location"].endswith("/auth/two-factor")
    assert enter_code(client, csrf_token, next_code(secret)).status_code == 429


def test_an_unreadable_secret_refuses_the_code_but_not_a_recovery_code(
    make_app, csrf_token, mail_server
):
    app = make_app(migrated=True, ENCRYPTION_KEYS=["a" + "0123456789abcdef" * 4])
    _, secret, codes = with_two_factor(app, csrf_token)
    # Deployed without the key that wrote the secret.
    other = make_app(ENCRYPTION_KEYS=["b" + "0123456789abcdef" * 4])
    client = password_step(other, csrf_token)
    assert enter_code(client, csrf_token, next_code(secret)).status_code == 401
    assert enter_code(client, csrf_token, codes[0]).status_code == 302


def test_wrong_codes_are_logged_without_the_code(app, csrf_token, mail_server, caplog):
    with_two_factor(app, csrf_token)
    caplog.clear()
    enter_code(password_step(app, csrf_token), csrf_token, "123456")
    records = [r for r in caplog.records if getattr(r, "event", "") == "two_factor_failed"]
    assert len(records) == 1
    assert "123456" not in caplog.text and ADA not in caplog.text.lower()


def test_the_secret_is_stored_encrypted(app, csrf_token, mail_server):
    _, secret, _ = with_two_factor(app, csrf_token)
    stored = stored_user(app).totp_secret
    assert secret not in stored and secret.lower() not in stored.lower()
    with app.app_context():
        assert module(app, "stored_secrets").decrypt(stored) == secret


def test_an_operator_can_turn_it_off(app, csrf_token, mail_server):
    client, _, _ = with_two_factor(app, csrf_token)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "two-factor-off", EMAIL])
    assert result.exit_code == 0, result.output
    assert stored_user(app).totp_secret is None and stored_digests(app) == []
    again = runner.invoke(args=["users", "two-factor-off", EMAIL])
    assert again.exit_code != 0 and "has two-factor log-in on" in again.output
    # What the second factor opened ends with it.
    assert client.get("/account").status_code == 302
