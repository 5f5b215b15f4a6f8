"""JWT access token validation at a resource server, including the classic attacks.

Spec: RFC 9068 §4; RFC 8725 §2.1 (alg none), §2.2 (HMAC with a public key), §3.9 (audience).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from authgate.core.errors import InvalidToken
from authgate.resource import JwksCache, JwtValidator

ISSUER = "https://auth.example.com"
AUDIENCE = "urn:example:notes"
RSA = RSAKey.generate_key(
    2048, parameters={"kid": "rsa-1", "alg": "RS256", "use": "sig"}, private=True
)
EC = ECKey.generate_key(
    "P-256", parameters={"kid": "ec-1", "alg": "ES256", "use": "sig"}, private=True
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    body: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "client_id": "c1",
        "exp": now + 300,
        "iat": now,
        "jti": "j1",
        "scope": "notes:read",
    }
    body.update(overrides)
    return body


def token(key: Any = RSA, alg: str = "RS256", typ: str = "at+jwt", **overrides: Any) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims(**overrides), key)


class Jwks:
    """A JWKS endpoint that counts fetches."""

    def __init__(self, *keys: Any) -> None:
        self.keys = list(keys)
        self.fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})


def validator(jwks: Jwks, **kw: Any) -> JwtValidator:
    http = httpx.AsyncClient(transport=httpx.MockTransport(jwks.handler))
    cache = JwksCache(f"{ISSUER}/jwks", http=http, min_refetch_seconds=kw.pop("refetch", 30))
    return JwtValidator(issuer=ISSUER, audience=AUDIENCE, jwks=cache, **kw)


async def test_rfc9068_4_valid_tokens_rs256_and_es256() -> None:
    v = validator(Jwks(RSA, EC))
    for t in (token(), token(EC, "ES256")):
        result = await v.validate(t)
        assert result.subject == "user-1" and result.client_id == "c1"
        assert result.scopes == frozenset({"notes:read"})
        assert result.has_scopes("notes:read") and not result.has_scopes("notes:write")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: token(aud="urn:example:other"), "audience"),
        (lambda: token(aud=["urn:example:other", "x"]), "audience"),
        (lambda: token(iss="https://evil.example"), "issuer"),
        (lambda: token(exp=int(time.time()) - 120), "expired"),
        (lambda: token(iat=int(time.time()) + 3600), "future"),
        (lambda: token(typ="JWT"), "typ"),
        (lambda: token(exp="soon"), "expired"),
        (lambda: "not-a-jwt", "malformed"),
    ],
)
async def test_rfc9068_4_claim_checks(make: Any, reason: str) -> None:
    with pytest.raises(InvalidToken, match=reason):
        await validator(Jwks(RSA)).validate(make())


async def test_rfc8725_2_1_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "at+jwt", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(claims()).encode())
    with pytest.raises(InvalidToken, match="algorithm"):
        await validator(Jwks(RSA)).validate(f"{header}.{payload}.")


async def test_rfc8725_2_2_hmac_signed_with_the_public_key_is_refused() -> None:
    public_pem = RSA.as_pem(private=False)
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken, match="algorithm"):
        await validator(Jwks(RSA)).validate(f"{header}.{payload}.{b64(mac)}")


async def test_key_type_must_match_the_algorithm() -> None:
    forged = jwt.encode({"alg": "ES256", "kid": "rsa-1", "typ": "at+jwt"}, claims(), EC)
    with pytest.raises(InvalidToken):
        await validator(Jwks(RSA)).validate(forged)


async def test_tampered_payload_is_refused() -> None:
    head, _, sig = token().split(".")
    payload = b64(json.dumps(claims(scope="notes:admin")).encode())
    with pytest.raises(InvalidToken, match="signature"):
        await validator(Jwks(RSA)).validate(f"{head}.{payload}.{sig}")


async def test_unknown_kid_refetches_once_then_is_rate_limited() -> None:
    jwks = Jwks(RSA)
    v = validator(jwks, refetch=3600)
    await v.validate(token())
    assert jwks.fetches == 1
    rotated = ECKey.generate_key(
        "P-256", parameters={"kid": "ec-new", "alg": "ES256"}, private=True
    )
    for _ in range(5):
        with pytest.raises(InvalidToken, match="unknown key"):
            await v.validate(token(rotated, "ES256"))
    assert jwks.fetches == 1  # within min_refetch_seconds: no fetch storm


async def test_unknown_kid_picks_up_a_rotated_key() -> None:
    jwks = Jwks(RSA)
    v = validator(jwks, refetch=0)
    await v.validate(token())
    jwks.keys.append(EC)
    assert (await v.validate(token(EC, "ES256"))).subject == "user-1"
    assert jwks.fetches == 2


async def test_private_or_symmetric_keys_in_a_jwks_are_ignored() -> None:
    class Leaky(Jwks):
        def handler(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200,
                json={
                    "keys": [
                        RSA.as_dict(private=True),
                        {"kty": "oct", "k": "c2VjcmV0", "kid": "rsa-1"},
                    ]
                },
            )

    with pytest.raises(InvalidToken, match="unknown key"):
        await validator(Leaky()).validate(token())


async def test_fetches_are_rate_limited_even_when_the_jwks_is_empty_or_down() -> None:
    class Down(Jwks):
        def handler(self, request: httpx.Request) -> httpx.Response:
            self.fetches += 1
            return httpx.Response(503)

    for jwks in (Down(), Jwks()):
        v = validator(jwks, refetch=3600)
        for _ in range(20):
            with pytest.raises(InvalidToken):
                await v.validate(token())
        assert jwks.fetches == 1
