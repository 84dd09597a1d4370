"""The OpenID Connect client: Authlib's, trusting a discovery document only
when it names the issuer it was fetched for."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.flask_client import FlaskOAuth2App
from flask import Response, current_app, flash, redirect, render_template, url_for

DISCOVERY_PATH = "/.well-known/openid-configuration"
# The ID token of this log-in: the provider's log-out page wants it as a hint.
LOGOUT_HINT_KEY = "auth_logout_hint"
# The auth_time of the log-in that opened this session, if the provider said.
LOGIN_AUTH_TIME_KEY = "auth_login_time"


class ProviderMetadataError(ValueError):
    """The provider's discovery document cannot be trusted."""


class IssuerCheckedClient(FlaskOAuth2App):
    """OpenID Connect Discovery 1.0 section 4.3: the ``issuer`` of the document
    must be identical to the issuer URL it was fetched from. Otherwise its
    endpoints and keys belong to someone else (a mix-up, or a wrong
    OIDC_ISSUER) and nothing from it is used."""

    def load_server_metadata(self) -> dict[str, Any]:
        metadata = super().load_server_metadata()
        expected = (self._server_metadata_url or "").removesuffix(DISCOVERY_PATH)
        if metadata.get("issuer") != expected:
            # Fetch again next time instead of trusting this copy.
            metadata.pop("_loaded_at", None)
            raise ProviderMetadataError(
                f"the discovery document names issuer {metadata.get('issuer')!r}, not {expected!r}"
            )
        return metadata


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def authorization_url(nonce: str, **params: Any) -> str:
    """The provider's authorization URL for a round trip back to
    /auth/callback (PARAMS are added to it); its state, nonce and PKCE
    verifier are kept in the session, as Authlib keeps them for a redirect.
    Raises ProviderMetadataError or OSError/ValueError when the provider
    cannot be used."""
    client = current_app.extensions["oidc"]
    redirect_uri = url_for("auth.callback", _external=True)
    created = client.create_authorization_url(redirect_uri, nonce=nonce, **params)
    client.save_authorize_data(redirect_uri=redirect_uri, **created)
    return created["url"]


def to_provider(nonce: str, **params: Any) -> Response | tuple[str, int]:
    """Send the browser to the provider's log-in, or a 503 page when the
    provider cannot be used."""
    try:
        return redirect(authorization_url(nonce, **params))
    except PROVIDER_UNUSABLE as error:
        return provider_unusable(error)


# What finding the provider can raise: a discovery document that cannot be
# trusted, the provider down, or OIDC_ISSUER pointing nowhere.
PROVIDER_UNUSABLE = (ProviderMetadataError, requests.RequestException, ValueError)


def provider_unusable(error: Exception) -> tuple[str, int]:
    """The 503 page for an error in PROVIDER_UNUSABLE, logged."""
    if isinstance(error, ProviderMetadataError):
        current_app.logger.error(
            "identity provider refused: %s",
            error,
            extra={"event": "login_provider_misconfigured"},
        )
        flash("The sign-in service is misconfigured. Please try again later.", "error")
    else:
        current_app.logger.warning(
            "identity provider unreachable",
            extra={"event": "login_provider_unreachable", "reason": type(error).__name__},
        )
        flash("The sign-in service cannot be reached. Please try again later.", "error")
    return render_template("auth/failed.html"), 503


def provider_logout_url(id_token: str | None) -> str | None:
    """The provider's end_session_endpoint, when its discovery document names
    one, with the hint and the way back; None when there is none to use.
    Without it the provider's session lives on, and the next "Log in" signs the
    same person straight back in."""
    if not id_token:
        return None
    try:
        metadata = current_app.extensions["oidc"].load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning(
            "provider log-out skipped",
            extra={"event": "logout_provider_unreachable", "reason": type(error).__name__},
        )
        return None
    endpoint = metadata.get("end_session_endpoint")
    # Only on the issuer's own scheme: an https issuer never sends the token over http.
    scheme = current_app.config["OIDC_ISSUER"].split("://", 1)[0] + "://"
    if not isinstance(endpoint, str) or not endpoint.startswith(scheme):
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": current_app.config["OIDC_CLIENT_ID"],
            "post_logout_redirect_uri": url_for("main.index", _external=True),
        }
    )
    return endpoint + ("&" if "?" in endpoint else "?") + query
