"""Signing keys: generation, the published JWK Set, encryption of private keys at rest.

One key per algorithm is active for signing (RS256, ES256, EdDSA); all keys are published in the
JWKS with distinct ``kid``s (RFC 7638 thumbprints). Private keys are encrypted with AES-256-GCM
under a key derived from ``AUTHGATE_KEY_ENCRYPTION_KEY`` when it is set.

Spec: RFC 7517 §4-5 (JWK, JWK Set); RFC 7638 (thumbprint); OIDC Core §10.1 (signing keys);
OIDC Discovery §3 (jwks_uri: public keys only).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey

from authgate.core.models import SigningKeyRecord
from authgate.crypto.rotation import key_lifecycle

__all__ = [
    "SUPPORTED_ALGS",
    "KeyDecryptionError",
    "KeyEncryptor",
    "KeySet",
    "SigningKey",
    "generate_key",
]

SUPPORTED_ALGS = ("RS256", "ES256", "EdDSA")
_ENC_PREFIX = "enc:v1:"

Jwk = RSAKey | ECKey | OKPKey


class KeyDecryptionError(Exception):
    """A stored private key could not be decrypted (wrong or missing encryption key)."""


class KeyEncryptor:
    """AES-256-GCM encryption of private JWKs at rest; a no-op without a configured key."""

    def __init__(self, secret: str | None) -> None:
        self._aead: AESGCM | None = None
        self._salt: bytes | None = None
        if secret:
            derived = HKDF(
                algorithm=SHA256(), length=32, salt=None, info=b"authgate private keys v1"
            ).derive(secret.encode("utf-8"))
            self._aead = AESGCM(derived)
            self._salt = HKDF(
                algorithm=SHA256(), length=32, salt=None, info=b"authgate key salt v1"
            ).derive(secret.encode("utf-8"))

    def derive(self, stored: bytes, info: bytes) -> bytes:
        """A 256-bit key from a secret kept in the database (``stored``) and, when one is
        configured, this key-encryption key (RFC 5869 HKDF): whoever reads the database alone
        cannot compute it, as they cannot decrypt the signing keys. Without one, the stored
        secret alone, as the signing keys are then stored in the clear."""
        return HKDF(algorithm=SHA256(), length=32, salt=self._salt, info=info).derive(stored)

    @property
    def enabled(self) -> bool:
        return self._aead is not None

    def seal(self, plaintext: str) -> str:
        if self._aead is None:
            return plaintext
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), b"authgate-jwk")
        return _ENC_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str) -> str:
        if not stored.startswith(_ENC_PREFIX):
            return stored
        if self._aead is None:
            raise KeyDecryptionError(
                "signing keys are encrypted: set AUTHGATE_KEY_ENCRYPTION_KEY to the key used "
                "when they were created"
            )
        try:
            raw = base64.urlsafe_b64decode(stored[len(_ENC_PREFIX) :])
            return self._aead.decrypt(raw[:12], raw[12:], b"authgate-jwk").decode("utf-8")
        except Exception as exc:
            raise KeyDecryptionError(
                "cannot decrypt signing keys: AUTHGATE_KEY_ENCRYPTION_KEY does not match"
            ) from exc


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key with its algorithm and ``kid``."""

    kid: str
    alg: str
    jwk: Jwk
    created_at: datetime

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK with ``kid``, ``alg`` and ``use``. Spec: RFC 7517 §4."""
        data = dict(self.jwk.as_dict(private=False))
        data.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return data


def generate_key(
    alg: str, now: datetime, encryptor: KeyEncryptor, not_before: datetime | None = None
) -> SigningKeyRecord:
    """Generate a new private key for ``alg`` and its storable record (kid = RFC 7638
    thumbprint)."""
    jwk: Jwk
    if alg == "RS256":
        jwk = RSAKey.generate_key(2048, private=True)
    elif alg == "ES256":
        jwk = ECKey.generate_key("P-256", private=True)
    elif alg == "EdDSA":
        jwk = OKPKey.generate_key("Ed25519", private=True)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    kid = jwk.thumbprint()
    private = orjson.dumps(jwk.as_dict(private=True)).decode("utf-8")
    return SigningKeyRecord(
        kid=kid,
        alg=alg,
        private_jwk=encryptor.seal(private),
        created_at=now,
        active=True,
        not_before=not_before,
    )


class KeySet:
    """The keys in use: one signing key per algorithm, and every key the JWKS publishes
    (announced, signing and retired ones; see ``crypto.rotation``)."""

    def __init__(
        self, published: Iterable[SigningKey], signing: dict[str, SigningKey] | None = None
    ) -> None:
        self.keys = tuple(published)
        if signing is None:
            signing = {}
            for key in sorted(self.keys, key=lambda k: k.created_at):
                signing[key.alg] = key
        self._signing = signing
        self._by_kid = {k.kid: k for k in self.keys}
        self.jwks_json = orjson.dumps({"keys": [k.public_jwk() for k in self.keys]})
        self.fingerprint = hashlib.sha256(self.jwks_json).hexdigest()

    @classmethod
    def from_records(
        cls,
        records: Iterable[SigningKeyRecord],
        encryptor: KeyEncryptor,
        now: datetime,
        retention: timedelta,
        loaded_before: KeySet | None = None,
    ) -> KeySet:
        """Decrypt and load the keys that are published at ``now``; keys already loaded in
        ``loaded_before`` are reused rather than decrypted and parsed again."""
        lifecycle = key_lifecycle(records, now, retention)
        previous = loaded_before._by_kid if loaded_before is not None else {}
        loaded = {
            rec.kid: previous.get(rec.kid) or _load(rec, encryptor) for rec in lifecycle.published
        }
        signing = {alg: loaded[rec.kid] for alg, rec in lifecycle.signing.items()}
        return cls(loaded.values(), signing)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(a for a in SUPPORTED_ALGS if a in self._signing)

    def signing_key(self, alg: str) -> SigningKey:
        """The key that signs with ``alg`` now. Raises KeyError if none."""
        return self._signing[alg]

    def by_kid(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)


def _load(record: SigningKeyRecord, encryptor: KeyEncryptor) -> SigningKey:
    data = orjson.loads(encryptor.open(record.private_jwk))
    jwk = JWKRegistry.import_key(data)
    return SigningKey(record.kid, record.alg, jwk, record.created_at)  # type: ignore[arg-type]
