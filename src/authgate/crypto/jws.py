"""JWS / JWT signing and verification with an algorithm allow-list.

``none`` and HMAC algorithms are never accepted when verifying with public keys (the classic
"alg confusion" attacks); the algorithm must be in the caller's allow-list *and* match the key
type.

Spec: RFC 7515 (JWS compact serialization); RFC 7519 §7.2 (validating a JWT);
RFC 8725 §3.1-§3.2 (JWT BCP: algorithm verification, appropriate algorithms).
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
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
    """Sign ``claims`` as a compact JWS with the key's ``alg`` and ``kid``.

    Signing is the hot path of every token response, so it calls the ``cryptography`` key
    directly: the compact form is two base64url segments and a signature (RFC 7515 §3.1,
    §7.1), and the JOSE library's per-call key and header processing cost as much as an ES256
    signature itself. Verification, which must reject hostile input, stays with the library;
    a test checks that it verifies what this produces for every algorithm.
    Spec: RFC 7515 §3.1, §5.1; RFC 7518 §3.3 (RS256), §3.4 (ES256: R || S, 32 bytes each);
    RFC 8037 §3.1 (EdDSA).
    """
    header = {"alg": key.alg, "kid": key.kid, "typ": typ}
    signing_input = _b64(orjson.dumps(header)) + b"." + _b64(orjson.dumps(claims))
    return (signing_input + b"." + _b64(_signature(key, signing_input))).decode("ascii")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _signature(key: SigningKey, data: bytes) -> bytes:
    private = key.jwk.private_key
    if key.alg == "RS256" and isinstance(private, rsa.RSAPrivateKey):
        return private.sign(data, padding.PKCS1v15(), SHA256())
    if (
        key.alg == "ES256"
        and isinstance(private, ec.EllipticCurvePrivateKey)
        and isinstance(private.curve, ec.SECP256R1)
    ):
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if key.alg == "EdDSA" and isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(data)
    raise ValueError(f"cannot sign {key.alg} with a {type(private).__name__}")


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
