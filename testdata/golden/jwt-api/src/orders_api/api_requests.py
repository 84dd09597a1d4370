"""What every route of the JSON API shares: JSON bodies in, JSON errors out.

Bearer tokens, not cookies, authenticate the API. A page on another site
cannot make a browser attach them, so CSRF tokens do not apply: the API's
blueprints, and only they, are exempt from CSRF protection. Every write
must also be JSON, which a plain HTML form cannot send.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, request

from .extensions import csrf

# The longest token a mailed link can carry; a longer one is not ours.
MAX_LINK_TOKEN_LENGTH = 512
# The longest address a form field takes (RFC 5321's path limit).
MAX_EMAIL_LENGTH = 254


def api_blueprint(name: str, url_prefix: str) -> Blueprint:
    """A blueprint for JSON routes: CSRF-exempt, and writes must be JSON."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    csrf.exempt(bp)
    bp.before_request(_require_json_bodies)
    return bp


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def client_link(page: str, **query: str) -> str:
    """The address of a page of the client application (CLIENT_APP_URL), with
    QUERY: where the links the API mails lead."""
    base = current_app.config["CLIENT_APP_URL"].rstrip("/")
    return f"{base}/{page}" + (f"?{urlencode(query)}" if query else "")


def _require_json_bodies():
    # DELETE carries no body here, and no HTML form can send it. A write
    # without a body (POST /me/log-out-everywhere) needs no content type;
    # views that want a body refuse an empty one.
    if request.method in {"POST", "PUT", "PATCH"} and not request.is_json and _has_body():
        abort(415)


def _has_body() -> bool:
    # A chunked body has no Content-Length.
    return bool(request.content_length) or "Transfer-Encoding" in request.headers


def _json_body() -> object:
    """The parsed JSON body, or None when it is not JSON. Flask's silent
    parsing swallows ValueError (bad syntax, invalid UTF-8) but not the
    RecursionError of deeply nested arrays, which must be a 400 too."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def fields(*names: str) -> dict[str, str]:
    """The named string fields of the JSON body, or 400."""
    body = json_object()
    values = {name: body.get(name) for name in names}
    if not all(isinstance(value, str) and value for value in values.values()):
        abort(400)
    return values


def json_object() -> dict[str, object]:
    """The JSON body, which must be an object, or 400."""
    body = _json_body()
    if not isinstance(body, dict):
        abort(400)
    return body


def optional_field(name: str) -> str:
    """The named string field of the JSON body, or "" if it is missing or
    not a string."""
    body = _json_body()
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""


def error(message: str, status: int):
    """A JSON error answer: {"error": message}."""
    response = jsonify(error=message)
    response.status_code = status
    return response


def unauthorized(
    error_code: str | None = "invalid_token",
    message: str = "You need to sign in.",
    description: str | None = None,
    status: int = 401,
):
    """A 401 (or STATUS) with RFC 6750's challenge: the scheme, then (unless
    the request carried no credentials at all) which error, and a fixed
    description."""
    response = error(message, status)
    challenge = ['Bearer realm="api"']
    if error_code:
        challenge.append(f'error="{error_code}"')
    if description:
        challenge.append(f'error_description="{description}"')
    response.headers["WWW-Authenticate"] = ", ".join(challenge)
    return response


def insufficient_scope(scope: str):
    """A 403 for a valid token without the scope a view needs (RFC 6750)."""
    response = error(f"This access token is not good for {scope}: log in asking for it.", 403)
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'
    )
    return response
