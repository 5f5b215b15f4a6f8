"""User claims released by scope, and the ID token claim set.

Spec: OIDC Core §2 (ID token), §3.1.3.6 (at_hash), §3.1.3.7, §5.1 (standard claims),
§5.3.2 (userinfo response), §5.4 (claims by scope).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from authgate.core.models import User

__all__ = ["SCOPE_CLAIMS", "SUPPORTED_CLAIMS", "id_token_claims", "token_hash_claim", "user_claims"]

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "given_name", "family_name", "preferred_username", "updated_at"),
    "email": ("email", "email_verified"),
}
SUPPORTED_CLAIMS = (
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "azp",
    *SCOPE_CLAIMS["profile"],
    *SCOPE_CLAIMS["email"],
)


def user_claims(user: User, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims about ``user`` that the granted scopes release (``sub`` always).

    Claims without a value are omitted rather than sent as null. Spec: OIDC Core §5.3.2, §5.4.
    """
    available: dict[str, Any] = {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "preferred_username": user.username,
        "updated_at": int(user.updated_at.timestamp()) if user.updated_at else None,
        "email": user.email,
        "email_verified": user.email_verified if user.email else None,
    }
    out: dict[str, Any] = {"sub": user.id}
    for scope in scopes:
        for claim in SCOPE_CLAIMS.get(scope, ()):
            value = available.get(claim)
            if value is not None:
                out[claim] = value
    return out


def token_hash_claim(token: str, alg: str) -> str:
    """``at_hash`` / ``c_hash``: base64url of the left half of the hash of the token, using the
    hash of the JWS algorithm (SHA-512 for EdDSA with Ed25519). Spec: OIDC Core §3.1.3.6."""
    digest = (
        hashlib.sha512(token.encode("ascii")).digest()
        if alg == "EdDSA"
        else hashlib.new("sha" + alg[2:], token.encode("ascii")).digest()
    )
    half = digest[: len(digest) // 2]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode("ascii")


def id_token_claims(
    *,
    issuer: str,
    client_id: str,
    subject: str,
    now: datetime,
    lifetime_seconds: int,
    auth_time: datetime,
    nonce: str | None,
    access_token: str | None,
    alg: str,
) -> dict[str, Any]:
    """The claims of an ID token issued at the token endpoint. Spec: OIDC Core §2, §3.1.3.6."""
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "exp": iat + lifetime_seconds,
        "iat": iat,
        "auth_time": int(auth_time.timestamp()),
        "azp": client_id,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = token_hash_claim(access_token, alg)
    return claims
