"""Micro-benchmarks of the hot paths named in issue 6 (pytest-benchmark).

    .venv/bin/pytest bench/micro --benchmark-enable --benchmark-only   # timings
    .venv/bin/pytest bench/micro     # each body once, as part of the test suite (no timing)

Nothing here asserts a duration: each benchmark checks that its operation gave the right answer,
and the figures are for comparing one change with the next (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc.jwk import KeySet as JoseKeySet

from authgate.core.authorization import validate_request
from authgate.core.claims import id_token_claims
from authgate.core.models import AuthMethod, Client
from authgate.core.params import parse_urlencoded
from authgate.crypto.hashing import TokenHasher
from authgate.crypto.jws import ASYMMETRIC_ALGS, sign_jwt, verify_jwt
from authgate.crypto.keys import KeyEncryptor, KeySet, generate_key
from bench.asgi_driver import Scenario

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

# -- whole requests through the ASGI application (SQLite file, in process) --------------------


@pytest.mark.parametrize(
    "operation", ["code_flow", "refresh", "client_credentials", "introspection", "userinfo"]
)
def test_token_endpoint_and_friends(
    benchmark: Any, scenario: Scenario, run: Callable[..., Any], operation: str
) -> None:
    """One operation of the shared harness's scenario of the same name, answer checked."""
    benchmark(run(getattr(scenario, operation)))


# -- JWT signing and verification ---------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> KeySet:
    encryptor = KeyEncryptor(None)
    records = [generate_key(alg, NOW, encryptor) for alg in ("RS256", "ES256", "EdDSA")]
    return KeySet.from_records(records, encryptor, NOW, retention=NOW - NOW)


def _claims(alg: str) -> dict[str, Any]:
    return id_token_claims(
        issuer="https://id.example.com",
        client_id="client-123",
        subject="user-456",
        now=NOW,
        lifetime_seconds=600,
        auth_time=NOW,
        nonce="n-0S6_WzA2Mj",
        access_token="agat_" + "x" * 43,
        alg=alg,
    )


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_sign_id_token(benchmark: Any, keys: KeySet, alg: str) -> None:
    key = keys.signing_key(alg)
    claims = _claims(alg)
    token = benchmark(sign_jwt, claims, key)
    assert token.count(".") == 2


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_verify_id_token(benchmark: Any, keys: KeySet, alg: str) -> None:
    public = JoseKeySet.import_key_set({"keys": [k.public_jwk() for k in keys.keys]})
    token = sign_jwt(_claims(alg), keys.signing_key(alg))
    _, claims = benchmark(
        verify_jwt, token, lambda header: public.get_by_kid(header["kid"]), ASYMMETRIC_ALGS
    )
    assert claims["sub"] == "user-456"


# -- hashing and request validation -------------------------------------------------------------


def test_token_hash(benchmark: Any) -> None:
    hasher = TokenHasher(b"k" * 32)
    digest = benchmark(hasher, "agat_" + "x" * 43)
    assert len(digest) == 64


def test_authorization_request_validation(benchmark: Any) -> None:
    client = Client(
        client_id="client-123",
        redirect_uris=("https://app.example.com/cb",),
        token_endpoint_auth_method=AuthMethod.CLIENT_SECRET_BASIC,
        grant_types=("authorization_code", "refresh_token"),
    )
    query = (
        "response_type=code&client_id=client-123&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb"
        "&scope=openid+profile+email&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    supported = frozenset({"openid", "profile", "email", "offline_access"})

    def validate() -> Any:
        params = parse_urlencoded(query)
        return validate_request(params, client, "https://app.example.com/cb", True, supported)

    request = benchmark(validate)
    assert request.scopes == ("openid", "profile", "email")
