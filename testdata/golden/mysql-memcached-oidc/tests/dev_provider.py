"""The development OpenID Connect provider behind `make idp`.

It is the tests' stub provider (tests/oidc_provider.py) with a sign-in page
where you type who you are, so `make dev` can be clicked through without a
real provider: the app runs the same code flow with PKCE, state and nonce,
checks the same signed ID tokens, and logs out at this provider too.

Development only. It reads OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET
from the environment or .env (as `flask run` does), refuses APP_ENV=production
and any issuer other than plain http on a loopback address, and is no part of
the image (the Dockerfile copies src/ only). Whoever reaches it can sign in as
anyone, so it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values
from flask import Flask, Response, abort, request
from werkzeug.serving import run_simple

from .oidc_provider import LOOPBACK_HOSTS, StubProvider, is_loopback_url

ENV_FILE = Path(__file__).resolve().parents[1] / ".env"
# Sign-in pages opened and not yet answered; the oldest are forgotten first.
MAX_PENDING = 100

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Development sign-in</title><link rel="icon" href="data:,"></head>
<body>
<h1>Development identity provider</h1>
<p>Sign in to <strong>{client}</strong> as anyone you like: this provider is for
development only.</p>
<form method="post" action="/authorize/approve">
<input type="hidden" name="ticket" value="{ticket}">
<p><label>Email <input name="email" type="email" value="dev@example.com" required></label></p>
<p><label>Name <input name="name" value="Dev User"></label></p>
<p><label>Groups <input name="groups" value="" placeholder="admins"></label>
(space-separated; OIDC_ROLES in .env maps them to roles)</p>
<p><label><input name="second_factor" type="checkbox" value="yes"> Signed in with a second
factor (the ID token's amr says mfa)</label></p>
<p><button type="submit">Sign in</button></p>
</form>
</body>
</html>
"""


class DevelopmentProvider(StubProvider):
    """The stub, asking who signs in instead of signing a fixed user in."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        # A new key id at every start: an app still running from before sees an
        # unknown key and fetches the new keys instead of refusing every log-in.
        super().__init__(client_id, client_secret, kid="dev-" + secrets.token_hex(4))
        self._pending: dict[str, dict] = {}

    def sign_in(self, args: dict) -> str:
        if not is_loopback_url(args.get("redirect_uri", "")):
            abort(400, "redirect_uri must point at this machine in development")
        # The ticket is random and used once, so another site cannot submit
        # this form on the developer's behalf.
        ticket = secrets.token_urlsafe(16)
        self._pending[ticket] = args
        while len(self._pending) > MAX_PENDING:
            self._pending.pop(next(iter(self._pending)))
        return PAGE.format(client=escape(self.client_id), ticket=ticket)

    def app(self) -> Flask:
        app = super().app()

        @app.post("/authorize/approve")
        def approve():
            args = self._pending.pop(request.form.get("ticket", ""), None)
            email = request.form.get("email", "").strip()
            if args is None or "@" not in email:
                abort(400)
            user = {
                # The same email is the same account at every sign-in.
                "sub": "dev-" + hashlib.sha256(email.lower().encode()).hexdigest()[:16],
                "email": email,
                "email_verified": True,
                "name": request.form.get("name", "").strip() or email,
                "groups": request.form.get("groups", "").split(),
                "amr": ["pwd", "mfa"] if request.form.get("second_factor") == "yes" else ["pwd"],
            }
            return self.issue_code(args, user)

        @app.after_request
        def no_framing(response: Response) -> Response:
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Cache-Control"] = "no-store"
            return response

        return app


def settings() -> dict[str, str]:
    """The app's settings: the environment first, then .env, as `flask run` reads them."""
    values = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
    return {**values, **os.environ}


def main() -> int:
    env = settings()
    issuer = env.get("OIDC_ISSUER", "").rstrip("/")
    parts = urlsplit(issuer)
    problem = None
    if env.get("APP_ENV", "production") == "production":
        problem = "APP_ENV is production (or unset): this provider is for development only"
    elif parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or not parts.port:
        problem = (
            f"OIDC_ISSUER is {issuer!r}; the development provider serves http://127.0.0.1:PORT"
            " only, for example OIDC_ISSUER=http://127.0.0.1:5001 in .env"
        )
    elif not env.get("OIDC_CLIENT_ID") or not env.get("OIDC_CLIENT_SECRET"):
        problem = "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set (in .env, the app's too)"
    if problem:
        print(f"make idp: {problem}", file=sys.stderr)
        return 2
    provider = DevelopmentProvider(env["OIDC_CLIENT_ID"], env["OIDC_CLIENT_SECRET"])
    provider.issuer = issuer
    print(f"Development OpenID Connect provider at {issuer}, client {provider.client_id}")
    run_simple("127.0.0.1", parts.port, provider.app(), threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
