"""A stub OpenID Connect provider, served from a thread of the test process
on 127.0.0.1: discovery document, JWKS, authorization, token and log-out
endpoints, with its own RSA key. Tests choose who signs in and how the
provider misbehaves, and read back what the app sent it. `make idp` serves it
with a sign-in page as the development provider (tests/dev_provider.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-client-secret"

# Ways the provider can misbehave; the app must refuse each.
TAMPERING = (
    "wrong-nonce",
    "wrong-audience",
    "wrong-issuer",
    "expired",
    "foreign-key",
    "alg-none",
    "hs256-with-public-key",
    "no-id-token",
)


# The only hosts the stub and the development provider send a browser back
# to, and the only ones the development provider serves as.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode()).digest())


class StubProvider:
    def __init__(
        self,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        kid: str = "stub-key",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.kid = kid
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)
        self.issuer = ""
        self.user: dict = {}
        self.tamper: str | None = None
        self.offers_end_session = True
        # What the discovery document says the issuer is, when not the truth.
        self.discovery_issuer: str | None = None
        # Seconds added to the ID token's auth_time: the log-in happened earlier.
        self.auth_time_offset = 0
        # "again": answer with the previous log-in's auth_time, as a provider
        # that ignores prompt=login would; "omit": no auth_time at all.
        self.auth_time_mode: str | None = None
        self._last_auth_time = 0
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.logout_requests: list[dict] = []
        self._codes: dict[str, dict] = {}
        self.reset()

    def reset(self) -> None:
        self.user = {
            "sub": "user-1",
            "email": "ada@example.com",
            "email_verified": True,
            "name": "Ada Lovelace",
        }
        self.tamper = None
        self.offers_end_session = True
        self.discovery_issuer = None
        self.auth_time_offset = 0
        self.auth_time_mode = None
        self._last_auth_time = 0
        self.authorize_requests.clear()
        self.token_requests.clear()
        self.logout_requests.clear()
        self._codes.clear()

    def settings(self) -> dict[str, str]:
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
        }

    def id_token(self, nonce: str, user: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **user,
        }
        if self.auth_time_mode != "omit":
            claims["auth_time"] = self._auth_time(now)
        header = {"alg": "RS256", "kid": self.kid}
        key = self.key
        if self.tamper == "wrong-nonce":
            claims["nonce"] = "not-the-nonce"
        elif self.tamper == "wrong-audience":
            claims["aud"] = "another-client"
        elif self.tamper == "wrong-issuer":
            claims["iss"] = "https://evil.example"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 600
        elif self.tamper == "foreign-key":
            key = RSAKey.generate_key(2048, parameters={"kid": self.kid}, private=True)
        elif self.tamper == "alg-none":
            unsigned = b64url(json.dumps({"alg": "none"}).encode())
            return unsigned + "." + b64url(json.dumps(claims).encode()) + "."
        elif self.tamper == "hs256-with-public-key":
            # The classic confusion attack: an HMAC keyed with the public key.
            public = self.key.as_pem(private=False)
            signing = b64url(json.dumps({"alg": "HS256", "kid": self.kid}).encode())
            signing += "." + b64url(json.dumps(claims).encode())
            mac = hmac.new(public, signing.encode(), hashlib.sha256).digest()
            return signing + "." + b64url(mac)
        return jwt.encode(header, claims, key)

    def _auth_time(self, now: int) -> int:
        """The stub signs the person in anew at each authorization request:
        each log-in is later than the one before (a real log-in takes longer
        than the tests' second)."""
        if self.auth_time_mode == "again" and self._last_auth_time:
            return self._last_auth_time
        if self.auth_time_offset:
            return now + self.auth_time_offset
        self._last_auth_time = max(now, self._last_auth_time + 1)
        return self._last_auth_time

    def sign_in(self, args: dict):
        """The stub signs ``self.user`` in at once; the development provider
        shows a page first."""
        return self.issue_code(args, self.user)

    def issue_code(self, args: dict, user: dict):
        """Send the browser back to the app with a code for ``user``."""
        code = secrets.token_urlsafe(16)
        self._codes[code] = {**args, "user": dict(user)}
        query = urlencode({"code": code, "state": args.get("state", "")})
        return redirect(args["redirect_uri"] + "?" + query)

    def app(self) -> Flask:
        app = Flask("stub_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            document = {
                "issuer": self.discovery_issuer or self.issuer,
                "authorization_endpoint": self.issuer + "/authorize",
                "token_endpoint": self.issuer + "/token",
                "jwks_uri": self.issuer + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
            if self.offers_end_session:
                document["end_session_endpoint"] = self.issuer + "/logout"
            return jsonify(document)

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            self.authorize_requests.append(args)
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                abort(400)
            return self.sign_in(args)

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            self.token_requests.append(form)
            auth = request.authorization
            if not auth or (auth.username, auth.password) != (self.client_id, self.client_secret):
                return jsonify(error="invalid_client"), 401
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify(error="invalid_grant"), 400
            # PKCE: the verifier must hash to the challenge sent at /authorize.
            if grant.get("code_challenge_method") != "S256" or s256(
                form.get("code_verifier", "")
            ) != grant.get("code_challenge"):
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            body = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer"}
            body["expires_in"] = 300
            if self.tamper != "no-id-token":
                body["id_token"] = self.id_token(grant.get("nonce", ""), grant["user"])
            return jsonify(body)

        @app.get("/logout")
        def logout():
            args = request.args.to_dict()
            self.logout_requests.append(args)
            target = args.get("post_logout_redirect_uri", "")
            if is_loopback_url(target):
                return redirect(target)
            return "Signed out at the provider."

        return app

    @contextmanager
    def running(self):
        server = make_server("127.0.0.1", 0, self.app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            thread.join()
