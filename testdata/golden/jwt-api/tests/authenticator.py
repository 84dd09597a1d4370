"""A software WebAuthn authenticator for the tests: a P-256 key pair (ES256),
attestation "none", answers built byte for byte as the specification lays
them out, so the server's checks run on real signatures. Its knobs make the
answers a broken or hostile authenticator would give."""

import hashlib
import json
import os
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "https://localhost"
RP_ID = "localhost"
# Authenticator data flags: user present, user verified, attested credential data.
UP, UV, AT = 0x01, 0x04, 0x40


def b64u(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    def __init__(self, origin=ORIGIN, rp_id=RP_ID, verifies_user=True):
        self.origin, self.rp_id = origin, rp_id
        self.verifies_user = verifies_user
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = None

    def _client_data(self, kind, challenge):
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _authenticator_data(self, flags, attested=b""):
        if self.verifies_user:
            flags |= UV
        rp_id_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", self.sign_count) + attested

    def _public_key(self):
        numbers = self.key.public_key().public_numbers()
        # COSE_Key: kty EC2, alg ES256, crv P-256, x, y.
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _credential(self, response):
        return {
            "id": b64u(self.credential_id),
            "rawId": b64u(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }

    def create(self, options):
        """The answer to navigator.credentials.create with OPTIONS (the JSON the server sent)."""
        self.user_handle = options["user"]["id"]
        client_data = self._client_data("webauthn.create", options["challenge"])
        attested = (
            bytes(16)  # AAGUID: none given
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._public_key()
        )
        attestation = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": self._authenticator_data(UP | AT, attested)}
        )
        return self._credential(
            {
                "clientDataJSON": b64u(client_data),
                "attestationObject": b64u(attestation),
                "transports": ["internal"],
            }
        )

    def get(self, options, count_up=True, user_handle=None, forged=False):
        """The answer to navigator.credentials.get with OPTIONS; the counter
        moves on unless COUNT_UP is false."""
        if count_up:
            self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        data = self._authenticator_data(UP)
        signature = self.key.sign(
            data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        if forged:
            signature = signature[:-1] + bytes([signature[-1] ^ 1])
        return self._credential(
            {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(data),
                "signature": b64u(signature),
                "userHandle": user_handle or self.user_handle,
            }
        )
