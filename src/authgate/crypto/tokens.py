"""Random values: codes, tokens, secrets, ids.

Every token has 256 bits from ``secrets`` (RFC 6749 §10.10 requires at least 128; RFC 9700
§4.14 recommends high entropy). Prefixes make leaked tokens recognisable to secret scanners.
"""

from __future__ import annotations

import secrets
from typing import Protocol

__all__ = ["RandomSource", "SystemRandom"]


class RandomSource(Protocol):
    """Where randomness comes from, injected so tests can make it deterministic."""

    def token(self, prefix: str = "") -> str: ...
    def identifier(self) -> str: ...
    def key(self) -> bytes: ...


class SystemRandom:
    """The operating system's CSPRNG."""

    def token(self, prefix: str = "") -> str:
        """A 256-bit URL-safe token, optionally prefixed (e.g. ``agat_``)."""
        return prefix + secrets.token_urlsafe(32)

    def identifier(self) -> str:
        """A 128-bit URL-safe identifier for records (not a secret by itself)."""
        return secrets.token_urlsafe(16)

    def key(self) -> bytes:
        """32 random bytes of key material."""
        return secrets.token_bytes(32)
