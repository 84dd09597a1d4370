"""The OpenID Connect client: Authlib's, trusting a discovery document only
when it names the issuer it was fetched for."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import FlaskOAuth2App

DISCOVERY_PATH = "/.well-known/openid-configuration"


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
