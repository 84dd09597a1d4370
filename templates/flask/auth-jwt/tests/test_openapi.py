"""The OpenAPI document (openapi.py) is true to the API: it validates as
OpenAPI 3.1, it names every API route and method, and every operation in it,
called the way a client would, answers with a status it documents and a body
that fits the documented schema (checked against the document, not the code
it came from). Bodies that do not fit their schema are refused with a 400
that names the field and never repeats the value."""

import importlib
import time
from collections.abc import Callable

import pyotp
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from .accounts import NEW_PASSWORD, PASSWORD, bearer, log_in, register, tokens
from .authenticator import SoftAuthenticator

DOCUMENT = "/api/v1/openapi.json"
ADA = "ada@example.com"
GRACE = "grace@example.com"


@pytest.fixture
def app(make_app):
    return make_app(migrated=True, LOGIN_RATE_LIMIT="100 per minute")


def document_of(client) -> dict:
    answer = client.get(DOCUMENT)
    assert answer.status_code == 200
    return answer.get_json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def link_token(app, purpose, email=ADA, *details):
    """The token of a link the app would mail ``email`` for PURPOSE."""
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        models = importlib.import_module(f"{app.import_name}.models")
        links = importlib.import_module(f"{app.import_name}.account_links")
        user = db.session.scalar(select(models.User).where(models.User.email == email))
        return links.make_token(purpose, user, *details)


class Caller:
    """A client with a confirmed account (Ada), her tokens and one note."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.tokens = tokens(self.client, scope="account notes:read notes:write")
        self.auth = bearer(self.tokens["access_token"])
        note = self.client.post("/api/v1/notes", json={"title": "First"}, headers=self.auth)
        self.note = note.get_json()["id"]

    def post(self, path, body=None, auth=True):
        return self.client.post(path, json=body or {}, headers=self.auth if auth else {})


def _recognise(c: Caller):
    recognition = importlib.import_module(f"{c.app.import_name}.api_links").RECOGNITION
    return c.post("/api/v1/auth/recognise", {"token": link_token(c.app, recognition)}, auth=False)


def _confirm(c: Caller):
    register(c.client, GRACE, confirmed=False)
    token = link_token(c.app, "address-confirmation", GRACE)
    return c.post("/api/v1/auth/confirm", {"token": token, "password": PASSWORD}, auth=False)


def _two_factor_on(c: Caller) -> dict:
    """Turn two-factor log-in on for Ada: the answer, with her new tokens."""
    setup = c.post("/api/v1/me/two-factor/setup").get_json()
    c.secret = setup["secret"]
    code = pyotp.TOTP(c.secret).now()
    body = {"setup_token": setup["setup_token"], "code": code, "password": PASSWORD}
    answer = c.post("/api/v1/me/two-factor", body)
    c.auth = bearer(answer.get_json()["access_token"])
    return answer


def _log_in_with_code(c: Caller):
    _two_factor_on(c)
    pending = log_in(c.client).get_json()["two_factor_token"]
    # The next step's code: the current one turned two-factor log-in on.
    code = pyotp.TOTP(c.secret).at(time.time() + 30)
    return c.post(
        "/api/v1/auth/token/two-factor", {"two_factor_token": pending, "code": code}, auth=False
    )


def _as_admin(method: str, path: str) -> Callable[[Caller], object]:
    """Call PATH as Ada made an admin, with two-factor log-in and a token
    asked for the admin scope; {grace} in PATH is Grace's account."""

    def scenario(c: Caller):
        register(c.client, GRACE)
        runner = c.app.test_cli_runner()
        assert runner.invoke(args=["users", "set-role", ADA, "admin"]).exit_code == 0
        _two_factor_on(c)
        pending = log_in(c.client, scope="admin").get_json()["two_factor_token"]
        code = pyotp.TOTP(c.secret).at(time.time() + 30)
        body = {"two_factor_token": pending, "code": code}
        issued = c.post("/api/v1/auth/token/two-factor", body, auth=False).get_json()
        with c.app.app_context():
            db = c.app.extensions["sqlalchemy"]
            users = db.metadata.tables["users"]
            grace = db.session.scalar(select(users.c.id).where(users.c.email == GRACE))
        headers = bearer(issued["access_token"])
        return c.client.open(path.format(grace=grace), method=method, headers=headers)

    return scenario


def _passkey_added(c: Caller) -> SoftAuthenticator:
    """Ada adds a passkey, as the client application's page would."""
    key = SoftAuthenticator(origin="http://localhost:3000", rp_id="localhost")
    started = c.post("/api/v1/me/passkeys/options", {"name": "Phone", "password": PASSWORD})
    body = started.get_json()
    answer = {"ceremony_token": body["ceremony_token"], "credential": key.create(body["options"])}
    c.added = c.post("/api/v1/me/passkeys", answer)
    return key


def _passkey_log_in(c: Caller):
    key = _passkey_added(c)
    started = c.post("/api/v1/auth/passkey/options", auth=False).get_json()
    answer = key.get(started["options"])
    body = {"ceremony_token": started["ceremony_token"], "credential": answer}
    return c.post("/api/v1/auth/passkey", body, auth=False)


def _passkey_removed(c: Caller):
    _passkey_added(c)
    passkey = c.added.get_json()["id"]
    return c.client.delete(f"/api/v1/me/passkeys/{passkey}", headers=c.auth)


def _with_two_factor(path: str) -> Callable[[Caller], object]:
    def scenario(c: Caller):
        _two_factor_on(c)
        return c.post(path, {"password": PASSWORD})

    return scenario


# Each operation of the document, called as a client that knows what it is doing would.
SCENARIOS: dict[str, Callable[[Caller], object]] = {
    "api_docs_openapi_json": lambda c: c.client.get(DOCUMENT),
    "api_register": lambda c: c.post(
        "/api/v1/auth/register", {"email": GRACE, "password": PASSWORD}, auth=False
    ),
    "api_token": lambda c: log_in(c.client),
    "api_refresh": lambda c: c.post(
        "/api/v1/auth/refresh", {"refresh_token": c.tokens["refresh_token"]}, auth=False
    ),
    "api_revoke": lambda c: c.post(
        "/api/v1/auth/revoke", {"refresh_token": c.tokens["refresh_token"]}, auth=False
    ),
    "api_me": lambda c: c.client.get("/api/v1/me", headers=c.auth),
    "api_links_confirm": _confirm,
    "api_links_resend_confirmation": lambda c: c.post(
        "/api/v1/auth/confirm/again", {"email": ADA}, auth=False
    ),
    "api_links_request_reset": lambda c: c.post("/api/v1/auth/reset", {"email": ADA}, auth=False),
    "api_links_reset_password": lambda c: c.post(
        "/api/v1/auth/reset/new",
        {"token": link_token(c.app, "password-reset"), "password": NEW_PASSWORD},
        auth=False,
    ),
    "api_links_recognise_device": _recognise,
    "api_links_confirm_new_address": lambda c: c.post(
        "/api/v1/auth/email/confirm",
        {"token": link_token(c.app, "address-change", ADA, GRACE), "password": PASSWORD},
        auth=False,
    ),
    "api_account_change_password": lambda c: c.post(
        "/api/v1/me/password", {"current_password": PASSWORD, "password": NEW_PASSWORD}
    ),
    # As the document says: no body, so no content type.
    "api_account_log_out_everywhere": lambda c: c.client.post(
        "/api/v1/me/log-out-everywhere", headers=c.auth
    ),
    "api_account_change_address": lambda c: c.post(
        "/api/v1/me/email", {"password": PASSWORD, "email": GRACE}
    ),
    "api_account_delete_account": lambda c: c.post("/api/v1/me/delete", {"password": PASSWORD}),
    "api_account_security_events": lambda c: c.client.get(
        "/api/v1/me/security-events", headers=c.auth
    ),
    "api_notes_index": lambda c: c.client.get("/api/v1/notes?page=1", headers=c.auth),
    "api_notes_create": lambda c: c.post("/api/v1/notes", {"title": "Second", "body": "text"}),
    "api_notes_read": lambda c: c.client.get(f"/api/v1/notes/{c.note}", headers=c.auth),
    "api_notes_replace": lambda c: c.client.put(
        f"/api/v1/notes/{c.note}", json={"title": "First, again"}, headers=c.auth
    ),
    "api_notes_delete": lambda c: c.client.delete(f"/api/v1/notes/{c.note}", headers=c.auth),
    "api_two_factor_log_in_with_code": _log_in_with_code,
    "api_two_factor_state": lambda c: c.client.get("/api/v1/me/two-factor", headers=c.auth),
    "api_two_factor_setup": lambda c: c.post("/api/v1/me/two-factor/setup"),
    "api_two_factor_turn_on": _two_factor_on,
    "api_two_factor_new_recovery_codes": _with_two_factor("/api/v1/me/two-factor/recovery-codes"),
    "api_two_factor_turn_off": _with_two_factor("/api/v1/me/two-factor/off"),
    "api_passkeys_index": lambda c: c.client.get("/api/v1/me/passkeys", headers=c.auth),
    "api_passkeys_registration_options": lambda c: c.post(
        "/api/v1/me/passkeys/options", {"name": "Phone", "password": PASSWORD}
    ),
    "api_passkeys_add": lambda c: _passkey_added(c) and c.added,
    "api_passkeys_remove": _passkey_removed,
    "api_passkeys_login_options": lambda c: c.post("/api/v1/auth/passkey/options", auth=False),
    "api_passkeys_login": _passkey_log_in,
    "api_admin_users": _as_admin("GET", "/api/v1/admin/users?q=example&page=1"),
    "api_admin_user": _as_admin("GET", "/api/v1/admin/users/{grace}"),
    "api_admin_disable": _as_admin("POST", "/api/v1/admin/users/{grace}/disable"),
    "api_admin_enable": _as_admin("POST", "/api/v1/admin/users/{grace}/enable"),
    "api_admin_end_sessions": _as_admin("POST", "/api/v1/admin/users/{grace}/end-sessions"),
}


def test_the_document_is_valid_openapi_3_1(client):
    document = document_of(client)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_route_and_method_is_documented(app, client):
    documented = {(path, method.upper()) for path, method, _ in operations(document_of(client))}
    openapi = importlib.import_module(f"{app.import_name}.openapi")
    routes = {
        (openapi.openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


def test_every_operation_has_a_scenario_here(client):
    ids = {operation["operationId"] for _, _, operation in operations(document_of(client))}
    assert ids == set(SCENARIOS)


def test_operations_name_the_scope_their_view_requires(app, client):
    for path, method, operation in operations(document_of(client)):
        rule = next(
            r
            for r in app.url_map.iter_rules()
            if r.endpoint.replace(".", "_") == operation["operationId"]
        )
        scope = getattr(app.view_functions[rule.endpoint], "required_scope", None)
        assert operation["security"] == ([{"bearer": [scope]}] if scope else []), (path, method)


@pytest.mark.parametrize("operation_id", sorted(SCENARIOS))
def test_each_operation_answers_as_documented(app, operation_id):
    caller = Caller(app)
    document = document_of(caller.client)
    operation = next(op for _, _, op in operations(document) if op["operationId"] == operation_id)
    answer = SCENARIOS[operation_id](caller)
    assert 200 <= answer.status_code < 300, answer.get_json()
    documented = operation["responses"].get(str(answer.status_code))
    assert documented is not None, f"{answer.status_code} is not documented for {operation_id}"
    if "content" not in documented:
        assert answer.get_data() == b""
        return
    schema = documented["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": "urn:openapi#" + schema["$ref"].removeprefix("#")}, registry=registry
    )
    problems = [problem.message for problem in validator.iter_errors(answer.get_json())]
    assert problems == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"password": PASSWORD}, "email: Field required."),
        ({"email": 5, "password": PASSWORD}, "email: Input should be a valid string."),
        ({"email": "", "password": PASSWORD}, "email: String should have at least 1 character."),
        (
            {"email": ADA, "password": PASSWORD, "scope": ["notes:read"]},
            "scope: Input should be a valid string.",
        ),
        (["not", "an", "object"], "The request could not be understood."),
    ],
)
def test_a_body_that_does_not_fit_its_schema_is_refused_naming_the_field(client, body, said):
    answer = client.post("/api/v1/auth/token", json=body)
    assert answer.status_code == 400
    assert answer.get_json() == {"error": said}


def test_a_refused_body_is_not_repeated_back(client):
    answer = client.post("/api/v1/auth/register", json={"email": ADA, "password": 1234567890123})
    assert answer.status_code == 400
    assert "1234567890123" not in answer.get_data(as_text=True)


def test_ids_past_what_a_column_holds_find_nothing(app):
    caller = Caller(app)
    for note_id in (2**31, 10**30):
        assert caller.client.get(f"/api/v1/notes/{note_id}", headers=caller.auth).status_code == 404


def test_a_route_path_becomes_an_openapi_path(app):
    openapi = importlib.import_module(f"{app.import_name}.openapi")
    assert openapi.openapi_path("/api/v1/notes/<int:note_id>") == "/api/v1/notes/{note_id}"
    assert openapi.openapi_path("/a/<int(signed=True):n>/<Slug2>") == "/a/{n}/{Slug2}"
