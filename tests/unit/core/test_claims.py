"""User claims and ID token claims. Spec: OIDC Core §2, §3.1.3.6, §5.1, §5.3.2, §5.4."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from authgate.core.claims import (
    SCOPE_CLAIMS,
    SUPPORTED_CLAIMS,
    id_token_claims,
    token_hash_claim,
    user_claims,
)
from tests.unit.core.factories import NOW, user

ACCESS_TOKEN = "agat_jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"


def left_half_b64url(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256"])
def test_oidc_core_3_1_3_6_at_hash_uses_sha256_for_256_bit_algs(alg: str) -> None:
    expected = left_half_b64url(hashlib.sha256(ACCESS_TOKEN.encode()).digest())
    assert token_hash_claim(ACCESS_TOKEN, alg) == expected
    assert len(expected) == 22


def test_oidc_core_3_1_3_6_at_hash_uses_sha512_for_eddsa_ed25519() -> None:
    expected = left_half_b64url(hashlib.sha512(ACCESS_TOKEN.encode()).digest())
    assert token_hash_claim(ACCESS_TOKEN, "EdDSA") == expected
    assert len(expected) == 43


def test_oidc_core_3_1_3_6_at_hash_uses_sha384_for_384_bit_algs() -> None:
    expected = left_half_b64url(hashlib.sha384(ACCESS_TOKEN.encode()).digest())
    assert token_hash_claim(ACCESS_TOKEN, "ES384") == expected


def test_oidc_core_3_1_3_6_at_hash_known_value() -> None:
    # Independently computed: SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223...
    assert token_hash_claim("abc", "RS256") == "ungWv48Bz-pBQUDeXa4iIw"


FULL_USER = user(
    id="u-42",
    username="alice",
    email="alice@example.com",
    email_verified=True,
    name="Alice Liddell",
    given_name="Alice",
    family_name="Liddell",
    updated_at=datetime(2024, 6, 1, tzinfo=UTC),
)


def test_oidc_core_5_4_no_scopes_release_only_sub() -> None:
    assert user_claims(FULL_USER, ()) == {"sub": "u-42"}
    assert user_claims(FULL_USER, ("openid", "offline_access", "api:read")) == {"sub": "u-42"}


def test_oidc_core_5_4_profile_scope_releases_profile_claims() -> None:
    assert user_claims(FULL_USER, ("openid", "profile")) == {
        "sub": "u-42",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "preferred_username": "alice",
        "updated_at": int(datetime(2024, 6, 1, tzinfo=UTC).timestamp()),
    }


def test_oidc_core_5_4_email_scope_releases_email_claims() -> None:
    assert user_claims(FULL_USER, ("email",)) == {
        "sub": "u-42",
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_oidc_core_5_4_both_scopes_release_the_union() -> None:
    claims = user_claims(FULL_USER, ("profile", "email"))
    assert set(claims) == {"sub", *SCOPE_CLAIMS["profile"], *SCOPE_CLAIMS["email"]}


def test_oidc_core_5_3_2_claims_without_value_are_omitted() -> None:
    bare = user(id="u-1", username="bob")
    assert user_claims(bare, ("profile", "email")) == {"sub": "u-1", "preferred_username": "bob"}


def test_oidc_core_5_1_email_verified_false_is_released_when_email_present() -> None:
    claims = user_claims(user(email="b@example.com", email_verified=False), ("email",))
    assert claims["email_verified"] is False


def test_oidc_discovery_3_supported_claims_cover_released_claims() -> None:
    released = set(user_claims(FULL_USER, ("profile", "email")))
    assert released <= set(SUPPORTED_CLAIMS)


def test_oidc_core_2_id_token_claims() -> None:
    auth_time = datetime(2025, 1, 1, 11, 30, tzinfo=UTC)
    claims = id_token_claims(
        issuer="https://op.example",
        client_id="client-1",
        subject="u-42",
        now=NOW,
        lifetime_seconds=3600,
        auth_time=auth_time,
        nonce="n-0S6_WzA2Mj",
        access_token=ACCESS_TOKEN,
        alg="ES256",
    )
    iat = int(NOW.timestamp())
    assert claims == {
        "iss": "https://op.example",
        "sub": "u-42",
        "aud": "client-1",
        "exp": iat + 3600,
        "iat": iat,
        "auth_time": int(auth_time.timestamp()),
        "azp": "client-1",
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": token_hash_claim(ACCESS_TOKEN, "ES256"),
    }
    assert iat == 1735732800


def test_oidc_core_2_id_token_without_nonce_or_access_token_omits_them() -> None:
    claims = id_token_claims(
        issuer="https://op.example",
        client_id="client-1",
        subject="u-42",
        now=NOW,
        lifetime_seconds=60,
        auth_time=NOW,
        nonce=None,
        access_token=None,
        alg="RS256",
    )
    assert "nonce" not in claims
    assert "at_hash" not in claims
    assert claims["exp"] - claims["iat"] == 60
