"""OpenID Connect on Intuit's token server: the ``id_token`` and ``/v1/openid_connect/userinfo``.

A consent that asks for the ``openid`` scope gets an ``id_token`` with its first
tokens: a JWT signed RS256 with a key published at the discovery document's
``jwks_uri``, its claims those Intuit's carry (``iss``, ``aud`` as a list, ``sub``,
``realmid``, ``auth_time``, ``iat``, ``exp``; intuit-oauth's ``validate_id_token``
checks them). ``userinfo`` answers for an access token of such a consent with the
claims its scopes allow: ``email`` (``email``, ``emailVerified``), ``profile``
(``givenName``, ``familyName``), ``phone`` (``phoneNumber``,
``phoneNumberVerified``), ``address`` (``address``). The user is the sandbox's one
developer; the RSA key is made on first use (tests that never ask pay nothing).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ID_TOKEN_SECONDS = 3600

#: The person who consented: the same for every company of a sandbox.
DEVELOPER = {
    "givenName": "Sandbox",
    "familyName": "Developer",
    "email": "developer@sandbox.example",
    "phoneNumber": "+1 6505550100",
    "address": {
        "streetAddress": "2700 Coast Ave",
        "locality": "Mountain View",
        "region": "CA",
        "postalCode": "94043",
        "country": "US",
    },
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(number: int) -> str:
    return _b64(number.to_bytes((number.bit_length() + 7) // 8, "big"))


class OpenIdProvider:
    """Signs id_tokens for one app and says who the user is."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.kid = secrets.token_hex(8)
        #: Stable for the app: Intuit's ``sub`` is the user's id.
        self.subject = hashlib.sha256(client_id.encode()).hexdigest()[:32]
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()

    def _private_key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._key

    def jwks(self) -> dict[str, Any]:
        numbers = self._private_key().public_key().public_numbers()
        key = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _uint(numbers.n),
            "e": _uint(numbers.e),
        }
        return {"keys": [key]}

    def id_token(self, issuer: str, realm_id: str, now: datetime) -> str:
        claims = {
            "iss": issuer,
            "aud": [self.client_id],
            "sub": self.subject,
            "realmid": realm_id,
            "auth_time": int(now.timestamp()),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ID_TOKEN_SECONDS)).timestamp()),
        }
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"}
        signing_input = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
        signature = self._private_key().sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def userinfo(self, scopes: frozenset[str]) -> dict[str, Any]:
        """The claims ``scopes`` allow (``sub`` always)."""
        claims: dict[str, Any] = {"sub": self.subject}
        if "email" in scopes:
            claims.update(email=DEVELOPER["email"], emailVerified=True)
        if "profile" in scopes:
            claims.update(givenName=DEVELOPER["givenName"], familyName=DEVELOPER["familyName"])
        if "phone" in scopes:
            claims.update(phoneNumber=DEVELOPER["phoneNumber"], phoneNumberVerified=True)
        if "address" in scopes:
            claims["address"] = dict(DEVELOPER["address"])  # type: ignore[arg-type]
        return claims
