"""Sealed access tokens: only this key opens them, they cannot be altered or re-spelled, and
they are told apart from the random and JWT forms. Spec: RFC 6749 §1.4, §10.3; RFC 8452;
design note 0009."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.crypto.sealed import AccessTokenSealer, SealedClaims
from authgate.crypto.tokens import SystemRandom

KEY = bytes(range(32))
NOW = datetime(2026, 12, 7, 21, 30, 15, 123456, tzinfo=UTC)


def claims(**changes: object) -> SealedClaims:
    values: dict[str, object] = {
        "client_id": "client-1",
        "user_id": "user-1",
        "grant_id": "grant-1",
        "family_id": "0193a1b2c3d4e5f60718293a4b5c6d7e",
        "scopes": ("openid", "profile", "email"),
        "issued_at": NOW,
        "expires_at": NOW + timedelta(hours=1),
        "audience": None,
    }
    values.update(changes)
    return SealedClaims(**values)  # type: ignore[arg-type]


@pytest.fixture
def sealer() -> AccessTokenSealer:
    return AccessTokenSealer(KEY, "agat_")


def test_a_sealed_token_opens_to_its_claims(sealer: AccessTokenSealer) -> None:
    token = sealer.seal(claims())
    assert token.startswith("agat_")
    assert sealer.is_sealed(token)
    assert sealer.open(token) == claims()


def test_client_credentials_and_resource_tokens_round_trip(sealer: AccessTokenSealer) -> None:
    machine = claims(user_id=None, grant_id=None, family_id=None, scopes=(), audience="urn:api")
    assert sealer.open(sealer.seal(machine)) == machine


@given(
    client_id=st.text(min_size=1, max_size=60),
    user=st.one_of(st.none(), st.text(max_size=40)),
    scopes=st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)),
    micros=st.integers(min_value=0, max_value=999_999),
)
def test_claims_survive_the_round_trip_exactly(
    client_id: str, user: str | None, scopes: list[str], micros: int
) -> None:
    sealer = AccessTokenSealer(KEY, "agat_")
    original = claims(
        client_id=client_id,
        user_id=user,
        scopes=tuple(scopes),
        issued_at=NOW.replace(microsecond=micros),
    )
    assert sealer.open(sealer.seal(original)) == original


def test_each_token_is_different_and_says_nothing_readable(sealer: AccessTokenSealer) -> None:
    first, second = sealer.seal(claims()), sealer.seal(claims())
    assert first != second  # a fresh nonce each time
    blob = base64.urlsafe_b64decode(first[5:] + "=" * (-len(first[5:]) % 4))
    for secret_part in (b"client-1", b"user-1", b"grant-1", b"openid"):
        assert secret_part not in blob


def test_another_key_or_prefix_opens_nothing(sealer: AccessTokenSealer) -> None:
    token = sealer.seal(claims())
    assert AccessTokenSealer(bytes(32), "agat_").open(token) is None
    other_prefix = AccessTokenSealer(KEY, "xxat_")
    assert other_prefix.open("xxat_" + token[5:]) is None


def test_any_altered_character_is_refused(sealer: AccessTokenSealer) -> None:
    token = sealer.seal(claims())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index in range(5, len(token)):
        replacement = alphabet[(alphabet.index(token[index]) + 1) % len(alphabet)]
        assert sealer.open(token[:index] + replacement + token[index + 1 :]) is None, index


def test_other_spellings_of_the_same_bytes_are_refused(sealer: AccessTokenSealer) -> None:
    """Revocation is by the token's hash: a second string opening to the same claims would
    escape it. The decoder skips stray characters and padding and ignores spare bits."""
    token = sealer.seal(claims())
    body = token[5:]
    spellings = [token + "=", token + "==", token + "!", token[:10] + "\n" + token[10:]]
    spare_bits = len(body) * 6 % 8
    if spare_bits:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(body[-1])
        spellings.append(token[:-1] + alphabet[last ^ 1])  # differs only in a spare bit
    for spelling in spellings:
        assert sealer.open(spelling) is None, spelling


def test_truncated_empty_and_garbage_tokens_are_refused(sealer: AccessTokenSealer) -> None:
    token = sealer.seal(claims())
    for bad in (token[:-4], token[:80], "agat_", "agat_" + "A" * 120, "", "Bearer x"):
        assert sealer.open(bad) is None


def test_random_and_jwt_tokens_are_not_sealed(sealer: AccessTokenSealer) -> None:
    """Tokens of the other forms are looked up by hash instead (server/tokens.py)."""
    random = SystemRandom()
    assert not sealer.is_sealed(random.token("agat_"))  # agat_<time>.<random>
    assert not sealer.is_sealed("agat_" + secrets.token_urlsafe(32))  # before the time
    assert not sealer.is_sealed("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    assert not sealer.is_sealed("agrt_" + "A" * 200)


def test_the_key_must_be_256_bits() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        AccessTokenSealer(bytes(16), "agat_")


def test_the_key_never_shows_in_repr(sealer: AccessTokenSealer) -> None:
    assert KEY.hex() not in repr(sealer) and repr(KEY) not in repr(sealer)
