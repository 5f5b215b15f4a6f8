"""Proof Key for Code Exchange, S256 only.

OAuth 2.1 and RFC 9700 §2.1.1 require PKCE; ``plain`` is refused because it offers no protection
when the authorization request leaks.

Spec: RFC 7636 §4.1-§4.6; OAuth 2.1 §4.1.1, §7.5.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from authgate.core.errors import InvalidGrant, InvalidRequest

__all__ = ["S256", "s256_challenge", "validate_challenge", "verify"]

S256 = "S256"
# code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# BASE64URL-ENCODE(SHA256(...)) is always 43 characters without padding.
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256_challenge(verifier: str) -> str:
    """BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). Spec: RFC 7636 §4.2."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def validate_challenge(challenge: str | None, method: str | None) -> str:
    """Check an authorization request's PKCE parameters; return the challenge.

    A missing method means ``plain`` (RFC 7636 §4.3), which is refused.
    Spec: RFC 7636 §4.3, §4.4.1; OAuth 2.1 §4.1.1.
    """
    if challenge is None:
        raise InvalidRequest("code_challenge is required (PKCE with S256)")
    if method != S256:
        raise InvalidRequest("code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge is not a valid S256 challenge")
    return challenge


def verify(verifier: str | None, challenge: str) -> None:
    """Check ``code_verifier`` against the stored challenge in constant time.

    Spec: RFC 7636 §4.5, §4.6.
    """
    if verifier is None:
        raise InvalidRequest("code_verifier is required")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier is malformed")
    expected = s256_challenge(verifier).encode("ascii")
    if not hmac.compare_digest(expected, challenge.encode("utf-8")):
        raise InvalidGrant("code_verifier does not match the code_challenge")
