"""JWS / JWT signing and verification with an algorithm allow-list.

``none`` and HMAC algorithms are never accepted when verifying with public keys (the classic
"alg confusion" attacks); the algorithm must be in the caller's allow-list *and* match the key
type.

Spec: RFC 7515 (JWS compact serialization); RFC 7519 §7.2 (validating a JWT);
RFC 8725 §3.1-§3.2 (JWT BCP: algorithm verification, appropriate algorithms).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from authgate.crypto.keys import Jwk, SigningKey

__all__ = [
    "ASYMMETRIC_ALGS",
    "JwtError",
    "read_claims_unverified",
    "read_header",
    "sign_jwt",
    "verify_jwt",
]

ASYMMETRIC_ALGS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_KEY_TYPES: dict[str, type] = {"RS": RSAKey, "PS": RSAKey, "ES": ECKey, "Ed": OKPKey}


class JwtError(Exception):
    """A JWT failed to parse or verify. The message is safe to show to the token's sender."""


def sign_jwt(claims: Mapping[str, Any], key: SigningKey, *, typ: str = "JWT") -> str:
    """Sign ``claims`` as a compact JWS with the key's ``alg`` and ``kid``. Spec: RFC 7515 §3.1."""
    header = {"alg": key.alg, "kid": key.kid, "typ": typ}
    with warnings.catch_warnings():
        # joserfc warns that RFC 9864 supersedes "EdDSA"; relying parties still expect it.
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, orjson.dumps(claims), key.jwk, algorithms=[key.alg])


def read_header(token: str) -> dict[str, Any]:
    """Decode the protected header without verifying anything (to choose a key)."""
    try:
        obj = jws.extract_compact(token.encode("ascii"))
    except (JoseError, ValueError, UnicodeError) as exc:
        raise JwtError("malformed JWT") from exc
    return dict(obj.protected)


def verify_jwt(
    token: str,
    find_key: Callable[[Mapping[str, Any]], Jwk | None],
    allowed_algs: frozenset[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS and return ``(header, claims)``.

    ``find_key`` receives the header and returns the verification key (or None). Claims checks
    (iss, aud, exp ...) are the caller's. Spec: RFC 7519 §7.2; RFC 8725 §3.1.
    """
    header = read_header(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed_algs or alg not in ASYMMETRIC_ALGS:
        raise JwtError("JWT algorithm not allowed")
    key = find_key(header)
    if key is None:
        raise JwtError("no key matches the JWT")
    if not isinstance(key, _KEY_TYPES[alg[:2]]):
        raise JwtError("JWT algorithm does not match the key type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = jws.deserialize_compact(token.encode("ascii"), key, algorithms=[alg])
    except (JoseError, ValueError, UnicodeError) as exc:
        raise JwtError("JWT signature is invalid") from exc
    try:
        claims = orjson.loads(obj.payload)
    except orjson.JSONDecodeError as exc:
        raise JwtError("JWT payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise JwtError("JWT payload is not a JSON object")
    return header, claims


def read_claims_unverified(token: str) -> dict[str, Any]:
    """The payload of a JWS *without* verifying it: only to find out who claims to have sent it,
    before the key to verify it with is known."""
    try:
        obj = jws.extract_compact(token.encode("ascii"))
        claims = orjson.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError, orjson.JSONDecodeError) as exc:
        raise JwtError("malformed JWT") from exc
    if not isinstance(claims, dict):
        raise JwtError("JWT payload is not a JSON object")
    return claims
