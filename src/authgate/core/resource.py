"""Resource indicators: which protected resource an access token is for.

One resource per request is supported; several (allowed by RFC 8707) are refused with
``invalid_target`` rather than silently reduced to one.

Spec: RFC 8707 §2 (resource parameter: absolute URI, no fragment; invalid_target), §2.1,
§2.2; RFC 9068 §2 (JWT access token claims), §2.1 (typ at+jwt), §2.2.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from authgate.core.errors import InvalidTarget
from authgate.core.models import Resource
from authgate.core.params import Params
from authgate.core.scope import format_scope

__all__ = [
    "JWT_ACCESS_TOKEN_TYPE",
    "access_token_claims",
    "requested_resource",
    "validate_resource_identifier",
]

JWT_ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret


def validate_resource_identifier(value: str) -> str:
    """An absolute URI without a fragment. Spec: RFC 8707 §2."""
    if len(value) > 2000 or any(ord(ch) <= 0x20 or ord(ch) >= 0x7F for ch in value):
        raise InvalidTarget("resource must be an absolute URI")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidTarget("resource must be an absolute URI") from None
    if not parts.scheme or "#" in value:
        raise InvalidTarget("resource must be an absolute URI without a fragment")
    return value


def requested_resource(params: Params) -> str | None:
    """The ``resource`` parameter of a request, validated in form. Spec: RFC 8707 §2."""
    if "resource" in params.repeated:
        raise InvalidTarget("only one resource per request is supported")
    value = params.data.get("resource")
    return None if value is None else validate_resource_identifier(value)


def access_token_claims(
    *,
    issuer: str,
    resource: Resource,
    subject: str,
    client_id: str,
    scopes: tuple[str, ...],
    jti: str,
    now: datetime,
    auth_time: datetime | None,
) -> dict[str, Any]:
    """Claims of an RFC 9068 JWT access token. For client_credentials, ``subject`` is the
    client's id (RFC 9068 §2.2). Spec: RFC 9068 §2.2, §2.2.3 (scope)."""
    iat = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "exp": iat + resource.access_token_ttl,
        "aud": resource.identifier,
        "sub": subject,
        "client_id": client_id,
        "iat": iat,
        "jti": jti,
    }
    if scopes:
        claims["scope"] = format_scope(scopes)
    if auth_time is not None:
        claims["auth_time"] = int(auth_time.timestamp())
    return claims
