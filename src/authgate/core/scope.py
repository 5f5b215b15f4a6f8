"""Scope parsing and formatting.

Spec: RFC 6749 §3.3 (scope = scope-token *( SP scope-token ), scope-token = 1*NQCHAR);
OpenID Connect Core 1.0 §5.4 (standard scopes), §11 (offline_access).
"""

from __future__ import annotations

from collections.abc import Iterable

from authgate.core.errors import InvalidScope

__all__ = ["OIDC_SCOPES", "Scopes", "format_scope", "parse_scope"]

# NQCHAR = %x21 / %x23-5B / %x5D-7E
_NQCHAR = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}

OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access")

Scopes = tuple[str, ...]


def parse_scope(value: str | None) -> Scopes:
    """Split a scope string into distinct tokens, keeping their first-seen order.

    Raises ``invalid_scope`` on characters outside NQCHAR or on empty tokens made by doubled,
    leading or trailing spaces. Spec: RFC 6749 §3.3.
    """
    if value is None or value == "":
        return ()
    tokens = value.split(" ")
    out: list[str] = []
    for token in tokens:
        if not token:
            raise InvalidScope("scope tokens must be separated by single spaces")
        if not all(ch in _NQCHAR for ch in token):
            raise InvalidScope("scope contains characters outside the allowed set")
        if token not in out:
            out.append(token)
    return tuple(out)


def format_scope(scopes: Iterable[str]) -> str:
    """Join scope tokens with single spaces. Spec: RFC 6749 §3.3."""
    return " ".join(scopes)
