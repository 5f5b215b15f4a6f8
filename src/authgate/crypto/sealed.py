"""Sealed access tokens: an opaque token that carries its own claims, encrypted and
authenticated under a key only this server holds (its own instance secret, with the
key-encryption key when one is set: ``KeyEncryptor.derive``).

A sealed token needs no row: issuing one writes nothing, so a token response costs one
insert less (design note 0009). Whether it is still live (not revoked one by one, nor with
its family, grant, user or client) is asked of the database at each use
(``storage.base.AccessTokenRepository.standing``), against the claims opened here.

Form: ``<prefix><base64url(version || nonce || AEAD ciphertext and tag)>``. The AEAD is
AES-256-GCM-SIV (RFC 8452) with a random 96-bit nonce: it stays safe past the ~2^32 tokens
after which plain GCM's random nonces risk a repeat, which would let anyone forge tokens.
The version byte and the prefix are the associated data. The client cannot read the claims
and must not try: the token is opaque to it (RFC 6749 §1.4).

Spec: RFC 6749 §1.4, §10.3, §10.10 (token confidentiality, no guessing); RFC 8452; RFC 7662
§2.2 (what introspection tells from the claims); design note 0009.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

__all__ = ["AccessTokenSealer", "SealedClaims"]

_VERSION: Final = b"\x01"
_NONCE_BYTES: Final = 12
# A sealed body is longer than any random token's (43 characters, or 56 with the time), and
# base64url has no '.', which the timed random tokens carry.
_RANDOM_BODY_MAX: Final = 56


@dataclass(frozen=True, slots=True)
class SealedClaims:
    """What a sealed access token says about itself. Times are whole microseconds since the
    epoch, in UTC (the server clock's precision), so they survive the round trip exactly."""

    client_id: str
    user_id: str | None
    grant_id: str | None
    family_id: str | None
    scopes: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    audience: str | None
    user_epoch: int | None = None
    """The user's token epoch when it was issued (``users.token_epoch``); None without a
    user."""


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _from_micros(value: int) -> datetime:
    seconds, micros = divmod(value, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


@dataclass(frozen=True, slots=True)
class AccessTokenSealer:
    """Seals and opens access tokens with one prefix under one 256-bit key (derived from a
    stored instance secret, so every node of a deployment shares it; ``bootstrap``)."""

    key: bytes = field(repr=False)  # never in a log line or a traceback's locals
    prefix: str
    _aead: AESGCMSIV = field(init=False, repr=False, compare=False)
    _aad: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise ValueError("an access token sealing key is 32 bytes")
        object.__setattr__(self, "_aead", AESGCMSIV(self.key))
        object.__setattr__(self, "_aad", _VERSION + self.prefix.encode("ascii"))

    def seal(self, claims: SealedClaims) -> str:
        payload = orjson.dumps(
            [
                _micros(claims.issued_at),
                _micros(claims.expires_at),
                claims.client_id,
                claims.user_id,
                claims.grant_id,
                claims.family_id,
                " ".join(claims.scopes),
                claims.audience,
                claims.user_epoch,
            ]
        )
        nonce = os.urandom(_NONCE_BYTES)
        blob = _VERSION + nonce + self._aead.encrypt(nonce, payload, self._aad)
        return self.prefix + base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")

    def is_sealed(self, token: str) -> bool:
        """Whether ``token`` has the sealed form (not whether it opens): tokens of the other
        forms (random ones stored by hash, JWTs) are looked up by hash instead."""
        return (
            token.startswith(self.prefix)
            and len(token) - len(self.prefix) > _RANDOM_BODY_MAX
            and "." not in token
        )

    def open(self, token: str) -> SealedClaims | None:
        """The claims of a token this key sealed; None for anything else (forged, altered,
        truncated, another key's or another version's)."""
        if not self.is_sealed(token):
            return None
        body = token[len(self.prefix) :]
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            return None
        # One spelling per token: the decoder skips characters outside the alphabet and
        # ignores the last character's spare bits, so other strings would open to the same
        # claims, and revocation (by the token's hash) would not reach them.
        if base64.urlsafe_b64encode(blob).rstrip(b"=") != body.encode("ascii", "replace"):
            return None
        if blob[:1] != _VERSION or len(blob) < 1 + _NONCE_BYTES + 16:
            return None
        nonce = blob[1 : 1 + _NONCE_BYTES]
        try:
            payload = self._aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], self._aad)
        except InvalidTag:
            return None
        # Authenticated: only this server wrote it, so its shape is known.
        iat, exp, client_id, user_id, grant_id, family_id, scope, audience, epoch = orjson.loads(
            payload
        )
        return SealedClaims(
            client_id=client_id,
            user_id=user_id,
            grant_id=grant_id,
            family_id=family_id,
            scopes=tuple(scope.split()) if scope else (),
            issued_at=_from_micros(iat),
            expires_at=_from_micros(exp),
            audience=audience,
            user_epoch=epoch,
        )
