"""Hashing of passwords and tokens. Spec: RFC 9106 (argon2id); RFC 9700 §4.14.2;
RFC 6749 §10.3, §10.5."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from authgate.crypto.hashing import PasswordHashing, TokenHasher, constant_time_equals
from authgate.crypto.tokens import SystemRandom

# Small argon2 parameters keep the unit suite fast; the algorithm is the same.
FAST = {"time_cost": 1, "memory_kib": 1024, "parallelism": 1}


@pytest.fixture(scope="module")
def passwords() -> PasswordHashing:
    return PasswordHashing(**FAST)


def test_rfc9106_hash_is_argon2id_and_verifies(passwords: PasswordHashing) -> None:
    stored = passwords.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in stored
    assert passwords.verify(stored, "correct horse battery staple") is True


def test_rfc9106_hash_is_salted(passwords: PasswordHashing) -> None:
    assert passwords.hash("same") != passwords.hash("same")


def test_rfc9106_wrong_password_is_false(passwords: PasswordHashing) -> None:
    stored = passwords.hash("right")
    assert passwords.verify(stored, "wrong") is False
    assert passwords.verify(stored, "Right") is False
    assert passwords.verify(stored, "") is False


def test_owasp_unknown_user_none_hash_is_false(passwords: PasswordHashing) -> None:
    assert passwords.verify(None, "anything") is False
    # Even the dummy password must not sign in a user without a hash.
    assert passwords.verify(None, "authgate-dummy-password") is False


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$bad$bad"])
def test_rfc9106_malformed_stored_hash_is_false(passwords: PasswordHashing, stored: str) -> None:
    assert passwords.verify(stored, "x") is False


def test_rfc9106_needs_rehash_when_parameters_change(passwords: PasswordHashing) -> None:
    stored = passwords.hash("pw")
    assert passwords.needs_rehash(stored) is False
    stronger = PasswordHashing(time_cost=2, memory_kib=2048, parallelism=1)
    assert stronger.needs_rehash(stored) is True
    assert stronger.verify(stored, "pw") is True


def test_rfc9700_4_14_2_token_hash_is_deterministic_hmac_sha256() -> None:
    hasher = TokenHasher(b"k" * 32)
    expected = hmac.new(b"k" * 32, b"agat_token", hashlib.sha256).hexdigest()
    assert hasher("agat_token") == expected
    assert hasher("agat_token") == hasher("agat_token")
    assert len(expected) == 64


def test_rfc9700_4_14_2_a_timed_token_s_hash_starts_with_its_time() -> None:
    """The time of a token made by ``SystemRandom.token`` leads its storage key (index
    locality); the HMAC still covers the whole token, time included."""
    hasher = TokenHasher(b"k" * 32)
    token = SystemRandom().token("agat_")
    issued = token[len("agat_") : len("agat_") + 12]
    mac = hmac.new(b"k" * 32, token.encode(), hashlib.sha256).hexdigest()
    assert hasher(token) == issued + mac
    # Later tokens get larger keys: new rows go to the end of the hash index.
    assert hasher("agat_0000000000ff.x") < hasher("agat_000000000100.a")
    # A forged time is a different token: its HMAC, the part that must match, differs too.
    forged = "agat_" + "0" * 12 + token[len("agat_") + 12 :]
    assert hasher(forged)[12:] != mac
    # Any value of that shape gets the same treatment on both sides (store and lookup).
    assert (
        hasher("0123456789ab.x")
        == "0123456789ab" + hmac.new(b"k" * 32, b"0123456789ab.x", hashlib.sha256).hexdigest()
    )


def test_rfc9700_4_14_2_tokens_without_a_time_hash_as_before() -> None:
    """Tokens issued before the time was added (and anything else presented) keep the plain
    HMAC, so they are still found after an upgrade."""
    hasher = TokenHasher(b"k" * 32)
    for legacy in (
        "agrt_" + "A" * 43,
        "abc.def",
        "agat_0123456789aZ.x",
        "agat_ABCDEF012345.x",  # upper-case hex is not the form tokens are made in
        "0123456789ab",
        "",
    ):
        assert hasher(legacy) == hmac.new(b"k" * 32, legacy.encode(), hashlib.sha256).hexdigest()


def test_rfc9700_4_14_2_token_hash_depends_on_key_and_token() -> None:
    a, b = TokenHasher(b"a" * 32), TokenHasher(b"b" * 32)
    assert a("t") != b("t")
    assert a("t") != a("u")
    assert a("t") != "t"


def test_rfc9700_4_14_2_derived_keys_differ_per_label_and_from_hashes() -> None:
    hasher = TokenHasher(b"k" * 32)
    csrf, other = hasher.derive("csrf"), hasher.derive("other")
    assert csrf != other
    assert hasher.derive("csrf") == csrf
    assert len(csrf) == 32
    assert csrf.hex() != hasher("csrf")
    assert TokenHasher(b"j" * 32).derive("csrf") != csrf


def test_rfc6749_10_3_constant_time_equals() -> None:
    assert constant_time_equals("abc", "abc")
    assert constant_time_equals(b"abc", "abc")
    assert not constant_time_equals("abc", "abd")
    assert not constant_time_equals("abc", "abcd")
