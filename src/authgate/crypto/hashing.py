"""Hashing of secrets.

- Human passwords: argon2id (RFC 9106) with OWASP-recommended parameters by default.
- Server-generated high-entropy values (codes, tokens, client secrets, session ids): a keyed
  SHA-256 (HMAC). With 256 bits of entropy no slow hash is needed; the key (an instance secret
  kept in the database, created by ``bootstrap``) means a leaked table alone cannot be used to
  confirm guesses. Lookups are by hash, so stored values never need comparing in Python.

Spec: RFC 9700 §4.14.2 (store refresh tokens hashed); RFC 6749 §10.3, §10.5; OWASP Password
Storage Cheat Sheet (argon2id m=19 MiB, t=2, p=1 minimum).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from authgate.core.models import TokenHash

__all__ = ["PasswordHashing", "TokenHasher", "constant_time_equals"]


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets without leaking where they differ."""
    a_b = a.encode() if isinstance(a, str) else a
    b_b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_b, b_b)


_ISSUED = re.compile("[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class TokenHasher:
    """HMAC-SHA256 of a token under the instance key, hex-encoded, used as the storage key.

    A token made by ``SystemRandom.token`` (``<prefix><time>.<random>``) keeps its 12-digit
    time in front of the HMAC: keys of new tokens are then the largest in their index, and
    each insert writes the index's last page, which the inserts around it share, instead of
    a page at a random place (with a million live tokens, half the bytes written per
    client_credentials request; bench/README.md). The HMAC covers the whole token, so a
    presented token with a forged time only finds nothing. Tokens without the time (made
    before it was added) hash as they always did.
    """

    key: bytes = field(repr=False)  # never in a log line or a traceback's locals
    _keyed: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Copying a keyed HMAC skips the key setup: half the cost of a new one per token
        # (several tokens are hashed per request).
        object.__setattr__(self, "_keyed", hmac.new(self.key, digestmod=hashlib.sha256))

    def __call__(self, token: str) -> TokenHash:
        mac = self._keyed.copy()
        mac.update(token.encode("utf-8"))
        dot = token.find(".")
        if dot >= 12 and _ISSUED.fullmatch(token, dot - 12, dot):
            return TokenHash(token[dot - 12 : dot] + mac.hexdigest())
        return TokenHash(mac.hexdigest())

    def derive(self, label: str) -> bytes:
        """A sub-key for another purpose (e.g. CSRF tokens), independent of the hashing key."""
        return hmac.new(self.key, b"authgate-derive:" + label.encode(), hashlib.sha256).digest()


class PasswordHashing:
    """argon2id hashing and verification of user passwords (CPU-bound: call from a thread)."""

    def __init__(self, *, time_cost: int = 2, memory_kib: int = 19456, parallelism: int = 1):
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        # Verifying against a dummy hash for unknown users keeps response time the same for
        # "no such user" and "wrong password" (user enumeration by timing).
        self._dummy = self._hasher.hash("authgate-dummy-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; always spends one full verification."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
