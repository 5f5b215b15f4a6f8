"""JWS/JWT signing and verification with an algorithm allow-list.

Spec: RFC 7515 §3.1, §5.2; RFC 7519 §7.2; RFC 8725 §2.1, §3.1, §3.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from joserfc import jws

from authgate.crypto.jws import (
    JwtError,
    read_claims_unverified,
    read_header,
    sign_jwt,
    verify_jwt,
)
from authgate.crypto.keys import SUPPORTED_ALGS, Jwk, KeyEncryptor, KeySet, SigningKey, generate_key

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
RETENTION = timedelta(days=30)
ALLOWED = frozenset(SUPPORTED_ALGS)
CLAIMS = {"iss": "https://op.example", "sub": "u-1", "aud": "client-1", "iat": 1735689600}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> list[str]:
    return token.split(".")


@pytest.fixture(scope="module")
def keyset() -> KeySet:
    plain = KeyEncryptor(None)
    records = [generate_key(alg, T0, plain) for alg in SUPPORTED_ALGS]
    return KeySet.from_records(records, plain, NOW, RETENTION)


@pytest.fixture(scope="module")
def other_keyset() -> KeySet:
    plain = KeyEncryptor(None)
    records = [generate_key(alg, T0, plain) for alg in SUPPORTED_ALGS]
    return KeySet.from_records(records, plain, NOW, RETENTION)


def finder(keyset: KeySet) -> Any:
    def find(header: Mapping[str, Any]) -> Jwk | None:
        key = keyset.by_kid(str(header.get("kid")))
        return key.jwk if key else None

    return find


def raw_sign(header: dict[str, Any], payload: bytes, key: SigningKey) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jws.serialize_compact(header, payload, key.jwk, algorithms=[key.alg])


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_rfc7515_sign_and_verify_round_trip(keyset: KeySet, alg: str) -> None:
    key = keyset.signing_key(alg)
    token = sign_jwt(CLAIMS, key, typ="at+jwt")
    header, claims = verify_jwt(token, finder(keyset), ALLOWED)
    assert claims == CLAIMS
    assert header == {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    assert read_header(token) == header
    assert read_claims_unverified(token) == CLAIMS


@pytest.mark.parametrize(("alg", "length"), [("RS256", 256), ("ES256", 64), ("EdDSA", 64)])
def test_rfc7518_signature_encoding(keyset: KeySet, alg: str, length: int) -> None:
    """ES256 is R || S of 32 bytes each (RFC 7518 §3.4), not the DER that OpenSSL returns; the
    JOSE library (an independent implementation) verifies every algorithm in the round trip."""
    signature = segments(sign_jwt(CLAIMS, keyset.signing_key(alg)))[2]
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == length


def test_a_key_of_another_type_is_refused(keyset: KeySet) -> None:
    rsa = keyset.signing_key("RS256")
    mislabelled = SigningKey(rsa.kid, "ES256", rsa.jwk, rsa.created_at)
    with pytest.raises(ValueError, match="cannot sign ES256"):
        sign_jwt(CLAIMS, mislabelled)


def test_rfc7519_default_typ_is_jwt(keyset: KeySet) -> None:
    assert read_header(sign_jwt(CLAIMS, keyset.signing_key("ES256")))["typ"] == "JWT"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_rfc8725_3_1_alg_none_is_rejected(keyset: KeySet, alg: str) -> None:
    kid = keyset.signing_key("RS256").kid
    token = ".".join([b64(orjson.dumps({"alg": alg, "kid": kid})), b64(orjson.dumps(CLAIMS)), ""])
    with pytest.raises(JwtError, match="not allowed"):
        verify_jwt(token, finder(keyset), ALLOWED | {alg})


@pytest.mark.parametrize("allowed", [ALLOWED, ALLOWED | {"HS256"}], ids=["default", "hs-allowed"])
def test_rfc8725_2_1_hmac_signed_with_public_key_is_rejected(
    keyset: KeySet, allowed: frozenset[str]
) -> None:
    """The classic algorithm confusion: HS256 keyed with the server's public RSA key."""
    key = keyset.signing_key("RS256")
    public_pem = key.jwk.as_pem(private=False)
    header = b64(orjson.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}))
    payload = b64(orjson.dumps({**CLAIMS, "sub": "admin"}))
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{b64(mac)}"
    with pytest.raises(JwtError, match="not allowed"):
        verify_jwt(token, finder(keyset), allowed)


def test_rfc8725_3_1_alg_outside_allow_list_is_rejected(keyset: KeySet) -> None:
    token = sign_jwt(CLAIMS, keyset.signing_key("EdDSA"))
    with pytest.raises(JwtError, match="not allowed"):
        verify_jwt(token, finder(keyset), frozenset({"RS256", "ES256"}))


def test_rfc8725_3_1_alg_must_match_key_type(keyset: KeySet) -> None:
    token = sign_jwt(CLAIMS, keyset.signing_key("ES256"))
    rsa = keyset.signing_key("RS256").jwk
    with pytest.raises(JwtError, match="does not match the key type"):
        verify_jwt(token, lambda _header: rsa, ALLOWED)


@pytest.mark.parametrize(
    ("header_alg", "key_alg"), [("RS256", "ES256"), ("EdDSA", "RS256"), ("ES256", "EdDSA")]
)
def test_rfc8725_3_1_header_alg_lying_about_key_type_is_rejected(
    keyset: KeySet, header_alg: str, key_alg: str
) -> None:
    token = sign_jwt(CLAIMS, keyset.signing_key(header_alg))
    wrong = keyset.signing_key(key_alg).jwk
    with pytest.raises(JwtError, match="does not match the key type"):
        verify_jwt(token, lambda _header: wrong, ALLOWED)


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_rfc7515_5_2_tampered_payload_is_rejected(keyset: KeySet, alg: str) -> None:
    header, _, signature = segments(sign_jwt(CLAIMS, keyset.signing_key(alg)))
    forged = b64(orjson.dumps({**CLAIMS, "sub": "admin"}))
    with pytest.raises(JwtError, match="signature is invalid"):
        verify_jwt(f"{header}.{forged}.{signature}", finder(keyset), ALLOWED)


@pytest.mark.parametrize("alg", SUPPORTED_ALGS)
def test_rfc7515_5_2_signature_by_another_key_is_rejected(
    keyset: KeySet, other_keyset: KeySet, alg: str
) -> None:
    token = sign_jwt(CLAIMS, other_keyset.signing_key(alg))
    real = keyset.signing_key(alg).jwk
    with pytest.raises(JwtError, match="signature is invalid"):
        verify_jwt(token, lambda _header: real, ALLOWED)


def test_rfc7515_5_2_stripped_signature_is_rejected(keyset: KeySet) -> None:
    header, payload, _ = segments(sign_jwt(CLAIMS, keyset.signing_key("ES256")))
    with pytest.raises(JwtError):
        verify_jwt(f"{header}.{payload}.", finder(keyset), ALLOWED)


def test_rfc7519_7_2_unknown_kid_is_rejected(keyset: KeySet, other_keyset: KeySet) -> None:
    token = sign_jwt(CLAIMS, other_keyset.signing_key("RS256"))
    with pytest.raises(JwtError, match="no key matches"):
        verify_jwt(token, finder(keyset), ALLOWED)


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"42"])
def test_rfc7519_7_2_payload_must_be_a_json_object(keyset: KeySet, payload: bytes) -> None:
    key = keyset.signing_key("ES256")
    token = raw_sign({"alg": "ES256", "kid": key.kid}, payload, key)
    with pytest.raises(JwtError, match="not a JSON object"):
        verify_jwt(token, finder(keyset), ALLOWED)
    with pytest.raises(JwtError, match="not a JSON object"):
        read_claims_unverified(token)


def test_rfc7519_7_2_payload_not_json_is_rejected(keyset: KeySet) -> None:
    key = keyset.signing_key("ES256")
    token = raw_sign({"alg": "ES256", "kid": key.kid}, b"not json", key)
    with pytest.raises(JwtError, match="not JSON"):
        verify_jwt(token, finder(keyset), ALLOWED)
    with pytest.raises(JwtError, match="malformed"):
        read_claims_unverified(token)


def test_rfc8725_3_1_missing_or_non_string_alg_is_rejected(keyset: KeySet) -> None:
    for header in ({"kid": "x"}, {"alg": 256}, {"alg": ["RS256"]}):
        token = ".".join([b64(orjson.dumps(header)), b64(orjson.dumps(CLAIMS)), "c2ln"])
        with pytest.raises(JwtError, match=r"not allowed|malformed"):
            verify_jwt(token, finder(keyset), ALLOWED)


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c.d", "!!.??.**", "\u00e9.\u00e9.\u00e9", "e30.e30"],
)
def test_rfc7515_malformed_compact_serialization_is_jwt_error(keyset: KeySet, token: str) -> None:
    with pytest.raises(JwtError):
        verify_jwt(token, finder(keyset), ALLOWED)
    with pytest.raises(JwtError):
        read_claims_unverified(token)


def test_an_es256_key_must_be_on_p256() -> None:
    from joserfc.jwk import ECKey

    p384 = ECKey.generate_key("P-384", private=True)
    with pytest.raises(ValueError, match="cannot sign ES256"):
        sign_jwt(CLAIMS, SigningKey("k", "ES256", p384, T0))
