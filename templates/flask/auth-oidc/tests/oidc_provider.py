"""A stub OpenID Connect provider, served from a thread of the test process
on 127.0.0.1: discovery document, JWKS, authorization and token endpoints,
with its own RSA key. Tests choose who signs in and how the provider
misbehaves, and read back what the app sent it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlencode

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


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode()).digest())


class StubProvider:
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "stub-key"}, private=True)
        self.issuer = ""
        self.user: dict = {}
        self.tamper: str | None = None
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
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
        self.authorize_requests.clear()
        self.token_requests.clear()
        self._codes.clear()

    def settings(self) -> dict[str, str]:
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.user,
        }
        header = {"alg": "RS256", "kid": "stub-key"}
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
            key = RSAKey.generate_key(2048, parameters={"kid": "stub-key"}, private=True)
        elif self.tamper == "alg-none":
            unsigned = b64url(json.dumps({"alg": "none"}).encode())
            return unsigned + "." + b64url(json.dumps(claims).encode()) + "."
        elif self.tamper == "hs256-with-public-key":
            # The classic confusion attack: an HMAC keyed with the public key.
            public = self.key.as_pem(private=False)
            signing = b64url(json.dumps({"alg": "HS256", "kid": "stub-key"}).encode())
            signing += "." + b64url(json.dumps(claims).encode())
            mac = hmac.new(public, signing.encode(), hashlib.sha256).digest()
            return signing + "." + b64url(mac)
        return jwt.encode(header, claims, key)

    def app(self) -> Flask:
        app = Flask("stub_provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=self.issuer + "/authorize",
                token_endpoint=self.issuer + "/token",
                jwks_uri=self.issuer + "/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic"],
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[self.key.as_dict(private=False)])

        @app.get("/authorize")
        def authorize():
            args = request.args.to_dict()
            self.authorize_requests.append(args)
            if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
                abort(400)
            code = secrets.token_urlsafe(16)
            self._codes[code] = args
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(args["redirect_uri"] + "?" + query)

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            self.token_requests.append(form)
            auth = request.authorization
            if not auth or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
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
                body["id_token"] = self.id_token(grant.get("nonce", ""))
            return jsonify(body)

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
