"""PKCE, S256 only. Spec: RFC 7636 §4.1-§4.6, Appendix B; OAuth 2.1 §4.1.1."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.core import pkce
from authgate.core.errors import InvalidGrant, InvalidRequest, OAuthError
from tests.unit.strategies import PROPERTY

# RFC 7636 Appendix B: the 32 random octets, the verifier (their base64url) and the challenge.
# fmt: off
APPENDIX_B_OCTETS = bytes([
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
    22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
])
# fmt: on
APPENDIX_B_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
APPENDIX_B_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def test_rfc7636_appendix_b_verifier_is_base64url_of_the_octets() -> None:
    assert base64.urlsafe_b64encode(APPENDIX_B_OCTETS).rstrip(b"=").decode() == (
        APPENDIX_B_VERIFIER
    )


def test_rfc7636_appendix_b_s256_test_vector() -> None:
    assert pkce.s256_challenge(APPENDIX_B_VERIFIER) == APPENDIX_B_CHALLENGE


def test_rfc7636_4_6_appendix_b_verifier_matches_its_challenge() -> None:
    pkce.verify(APPENDIX_B_VERIFIER, APPENDIX_B_CHALLENGE)


def test_rfc7636_4_2_challenge_is_unpadded_base64url_sha256() -> None:
    verifier = "~" * 43 + "._-"
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert pkce.s256_challenge(verifier) == expected.decode().rstrip("=")


def test_rfc7636_4_3_valid_s256_challenge_is_returned() -> None:
    assert pkce.validate_challenge(APPENDIX_B_CHALLENGE, "S256") == APPENDIX_B_CHALLENGE


def test_oauth21_4_1_1_missing_challenge_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="code_challenge is required"):
        pkce.validate_challenge(None, "S256")


@pytest.mark.parametrize("method", [None, "plain", "s256", "S512", ""])
def test_rfc7636_4_3_plain_or_missing_method_is_refused(method: str | None) -> None:
    # A missing method means "plain" (RFC 7636 §4.3); plain is refused (RFC 9700 §2.1.1).
    with pytest.raises(InvalidRequest, match="code_challenge_method must be S256"):
        pkce.validate_challenge(APPENDIX_B_CHALLENGE, method)


@pytest.mark.parametrize(
    "challenge",
    [
        APPENDIX_B_CHALLENGE[:-1],
        APPENDIX_B_CHALLENGE + "A",
        APPENDIX_B_CHALLENGE[:-1] + "=",
        APPENDIX_B_CHALLENGE[:-1] + "+",
        APPENDIX_B_CHALLENGE[:-1] + "/",
        APPENDIX_B_CHALLENGE[:-1] + "~",
        APPENDIX_B_CHALLENGE + "\n",
        "",
        "a" * 64,
    ],
    ids=["42-chars", "44-chars", "padding", "plus", "slash", "tilde", "newline", "empty", "plain"],
)
def test_rfc7636_4_2_malformed_challenge_is_invalid_request(challenge: str) -> None:
    with pytest.raises(InvalidRequest, match="not a valid S256 challenge"):
        pkce.validate_challenge(challenge, "S256")


def test_rfc7636_4_5_missing_verifier_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match="code_verifier is required"):
        pkce.verify(None, APPENDIX_B_CHALLENGE)


@pytest.mark.parametrize("length", [43, 128])
def test_rfc7636_4_1_verifier_length_bounds_are_accepted(length: int) -> None:
    verifier = ("a1-._~" * 30)[:length]
    pkce.verify(verifier, pkce.s256_challenge(verifier))


@pytest.mark.parametrize("length", [0, 42, 129])
def test_rfc7636_4_1_verifier_length_out_of_bounds_is_invalid_grant(length: int) -> None:
    verifier = "a" * length
    with pytest.raises(InvalidGrant, match="malformed"):
        pkce.verify(verifier, pkce.s256_challenge(verifier))


@pytest.mark.parametrize("bad", ["+", "/", "=", " ", "\u00e9", "\n"])
def test_rfc7636_4_1_verifier_outside_unreserved_is_invalid_grant(bad: str) -> None:
    verifier = APPENDIX_B_VERIFIER[:-1] + bad
    with pytest.raises(InvalidGrant, match="malformed"):
        pkce.verify(verifier, APPENDIX_B_CHALLENGE)


def test_rfc7636_4_6_mismatched_verifier_is_invalid_grant() -> None:
    other = APPENDIX_B_VERIFIER[:-1] + "3"
    with pytest.raises(InvalidGrant, match="does not match") as exc:
        pkce.verify(other, APPENDIX_B_CHALLENGE)
    assert exc.value.error == "invalid_grant"


def test_rfc7636_4_6_verifier_equal_to_challenge_is_invalid_grant() -> None:
    # A client sending the challenge itself as verifier (plain semantics) must fail.
    with pytest.raises(InvalidGrant):
        pkce.verify(APPENDIX_B_CHALLENGE, APPENDIX_B_CHALLENGE)


@given(st.text(st.sampled_from(UNRESERVED), min_size=43, max_size=128))
@PROPERTY
def test_rfc7636_4_2_any_valid_verifier_verifies_against_its_challenge(verifier: str) -> None:
    challenge = pkce.s256_challenge(verifier)
    assert pkce.validate_challenge(challenge, "S256") == challenge
    pkce.verify(verifier, challenge)


@given(st.text(), st.one_of(st.none(), st.text()))
@PROPERTY
def test_rfc7636_4_4_any_text_as_challenge_raises_only_oauth_error(
    challenge: str, method: str | None
) -> None:
    try:
        result = pkce.validate_challenge(challenge, method)
    except InvalidRequest:
        return
    assert result == challenge
    assert method == "S256"


@given(st.one_of(st.none(), st.text()))
@PROPERTY
def test_rfc7636_4_6_any_text_as_verifier_raises_only_oauth_error(verifier: str | None) -> None:
    try:
        pkce.verify(verifier, APPENDIX_B_CHALLENGE)
    except OAuthError:
        pass
    else:
        assert verifier == APPENDIX_B_VERIFIER


@given(st.text(st.characters(max_codepoint=0x7F)))
@PROPERTY
def test_rfc7636_4_6_any_ascii_stored_challenge_raises_only_oauth_error(challenge: str) -> None:
    try:
        pkce.verify(APPENDIX_B_VERIFIER, challenge)
    except InvalidGrant:
        return
    assert challenge == APPENDIX_B_CHALLENGE


def test_rfc7636_4_6_non_ascii_challenge_is_invalid_grant_not_type_error() -> None:
    with pytest.raises(InvalidGrant):
        pkce.verify(APPENDIX_B_VERIFIER, "\u00e9" * 43)
