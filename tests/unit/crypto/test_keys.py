"""Signing keys, JWK Set, encryption at rest. Spec: RFC 7517 §4-5; RFC 7638; OIDC Core §10.1;
OIDC Discovery §3."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey

from authgate.core.models import SigningKeyRecord
from authgate.crypto.keys import (
    SUPPORTED_ALGS,
    KeyDecryptionError,
    KeyEncryptor,
    KeySet,
    generate_key,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
RETENTION = timedelta(days=30)
PLAIN = KeyEncryptor(None)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def records() -> dict[str, SigningKeyRecord]:
    return {alg: generate_key(alg, T0, PLAIN) for alg in SUPPORTED_ALGS}


def test_key_encryption_seal_open_round_trip() -> None:
    enc = KeyEncryptor("a long operator secret")
    assert enc.enabled
    sealed = enc.seal('{"kty":"OKP"}')
    assert sealed.startswith("enc:v1:")
    assert "OKP" not in sealed
    assert enc.open(sealed) == '{"kty":"OKP"}'
    assert enc.seal('{"kty":"OKP"}') != sealed  # fresh nonce


def test_key_encryption_same_secret_in_another_instance_opens() -> None:
    sealed = KeyEncryptor("s3cret").seal("payload")
    assert KeyEncryptor("s3cret").open(sealed) == "payload"


def test_key_encryption_wrong_key_is_key_decryption_error() -> None:
    sealed = KeyEncryptor("right").seal("payload")
    with pytest.raises(KeyDecryptionError, match="does not match"):
        KeyEncryptor("wrong").open(sealed)


def test_key_encryption_tampered_ciphertext_is_key_decryption_error() -> None:
    enc = KeyEncryptor("right")
    raw = bytearray(base64.urlsafe_b64decode(enc.seal("payload").removeprefix("enc:v1:")))
    raw[15] ^= 0x01  # a ciphertext byte, after the 12-byte nonce
    with pytest.raises(KeyDecryptionError):
        enc.open("enc:v1:" + base64.urlsafe_b64encode(bytes(raw)).decode())


def test_key_encryption_missing_key_with_encrypted_data_is_key_decryption_error() -> None:
    sealed = KeyEncryptor("right").seal("payload")
    with pytest.raises(KeyDecryptionError, match="AUTHGATE_KEY_ENCRYPTION_KEY"):
        PLAIN.open(sealed)


@pytest.mark.parametrize("secret", [None, ""])
def test_key_encryption_disabled_is_a_no_op(secret: str | None) -> None:
    enc = KeyEncryptor(secret)
    assert not enc.enabled
    assert enc.seal("plain") == "plain"
    assert enc.open("plain") == "plain"


def test_key_encryption_enabled_still_reads_unencrypted_keys() -> None:
    assert KeyEncryptor("k").open('{"kty":"EC"}') == '{"kty":"EC"}'


def test_key_encryption_corrupted_value_is_key_decryption_error() -> None:
    with pytest.raises(KeyDecryptionError):
        KeyEncryptor("k").open("enc:v1:abc")


@pytest.mark.parametrize(
    ("alg", "key_type", "kty"),
    [("RS256", RSAKey, "RSA"), ("ES256", ECKey, "EC"), ("EdDSA", OKPKey, "OKP")],
)
def test_rfc7517_generate_key(
    records: dict[str, SigningKeyRecord], alg: str, key_type: type, kty: str
) -> None:
    record = records[alg]
    assert record.alg == alg
    assert record.active is True
    assert record.created_at == T0
    data = orjson.loads(record.private_jwk)
    assert data["kty"] == kty
    assert "d" in data
    key = key_type.import_key(data)
    assert record.kid == key.thumbprint()


def test_rfc7517_generated_key_is_encrypted_at_rest_when_configured() -> None:
    enc = KeyEncryptor("k")
    record = generate_key("ES256", T0, enc)
    assert record.private_jwk.startswith("enc:v1:")
    assert orjson.loads(enc.open(record.private_jwk))["crv"] == "P-256"


def test_rfc7517_generate_unsupported_alg_is_value_error() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        generate_key("HS256", T0, PLAIN)


def test_oidc_discovery_3_jwks_publishes_public_keys_only(
    records: dict[str, SigningKeyRecord],
) -> None:
    keyset = KeySet.from_records(records.values(), PLAIN, NOW, RETENTION)
    published = orjson.loads(keyset.jwks_json)["keys"]
    assert len(published) == 3
    for jwk in published:
        assert not PRIVATE_MEMBERS & jwk.keys()
        assert jwk["use"] == "sig"
        assert jwk["alg"] in SUPPORTED_ALGS
    assert len({jwk["kid"] for jwk in published}) == 3
    assert {jwk["kid"] for jwk in published} == {r.kid for r in records.values()}


def test_rfc7517_4_public_jwk_has_kid_alg_use(records: dict[str, SigningKeyRecord]) -> None:
    keyset = KeySet.from_records([records["ES256"]], PLAIN, NOW, RETENTION)
    public = keyset.signing_key("ES256").public_jwk()
    assert public["kid"] == records["ES256"].kid
    assert public["alg"] == "ES256"
    assert public["crv"] == "P-256"
    assert "d" not in public


def test_oidc_core_10_1_newest_key_per_alg_signs_and_all_are_published(
    records: dict[str, SigningKeyRecord],
) -> None:
    newer = generate_key("ES256", T0 + timedelta(days=1), PLAIN)
    keyset = KeySet.from_records([newer, *records.values()], PLAIN, NOW, RETENTION)
    assert keyset.signing_key("ES256").kid == newer.kid
    assert keyset.signing_key("RS256").kid == records["RS256"].kid
    assert keyset.by_kid(records["ES256"].kid) is not None
    assert keyset.by_kid(newer.kid) is not None
    assert keyset.by_kid("unknown") is None
    assert len(orjson.loads(keyset.jwks_json)["keys"]) == 4
    assert keyset.algorithms == SUPPORTED_ALGS


def test_oidc_core_10_1_inactive_keys_are_neither_used_nor_published(
    records: dict[str, SigningKeyRecord],
) -> None:
    retired = generate_key("EdDSA", T0 + timedelta(days=1), PLAIN)
    retired = SigningKeyRecord(
        kid=retired.kid,
        alg=retired.alg,
        private_jwk=retired.private_jwk,
        created_at=retired.created_at,
        active=False,
    )
    keyset = KeySet.from_records([records["EdDSA"], retired], PLAIN, NOW, RETENTION)
    assert keyset.signing_key("EdDSA").kid == records["EdDSA"].kid
    assert keyset.by_kid(retired.kid) is None
    assert keyset.algorithms == ("EdDSA",)
    with pytest.raises(KeyError):
        keyset.signing_key("RS256")


def test_rfc7517_5_jwks_fingerprint_changes_with_keys(records: dict[str, SigningKeyRecord]) -> None:
    one = KeySet.from_records([records["RS256"]], PLAIN, NOW, RETENTION)
    same = KeySet.from_records([records["RS256"]], PLAIN, NOW, RETENTION)
    two = KeySet.from_records([records["RS256"], records["ES256"]], PLAIN, NOW, RETENTION)
    assert one.fingerprint == same.fingerprint
    assert one.fingerprint != two.fingerprint


def test_key_encryption_keyset_from_encrypted_records_needs_the_key() -> None:
    enc = KeyEncryptor("k")
    record = generate_key("EdDSA", T0, enc)
    assert KeySet.from_records([record], enc, NOW, RETENTION).signing_key("EdDSA").kid == record.kid
    with pytest.raises(KeyDecryptionError):
        KeySet.from_records([record], PLAIN, NOW, RETENTION)


def test_derived_keys_need_the_key_encryption_key_when_one_is_set() -> None:
    """The access-token sealing key comes from a stored secret and, when configured, the
    key-encryption key: a reader of the database alone cannot compute it (design note 0009)."""
    stored = bytes(range(32))
    plain = KeyEncryptor(None).derive(stored, b"authgate access tokens v1")
    with_kek = KeyEncryptor("a long key-encryption key").derive(
        stored, b"authgate access tokens v1"
    )
    assert len(plain) == len(with_kek) == 32
    assert with_kek != plain
    assert KeyEncryptor("another key-encryption key").derive(stored, b"x") != KeyEncryptor(
        "a long key-encryption key"
    ).derive(stored, b"x")
    # Deterministic (every node derives the same), and separated by purpose and secret.
    assert KeyEncryptor(None).derive(stored, b"authgate access tokens v1") == plain
    assert KeyEncryptor(None).derive(stored, b"another purpose") != plain
    assert KeyEncryptor(None).derive(bytes(32), b"authgate access tokens v1") != plain
