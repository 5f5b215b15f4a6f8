"""Internal: the public names are re-exported by ``authgate.client``.

Errors a relying party meets, one class per situation.

Spec: RFC 6749 §4.1.2.1, §5.2 (error responses); RFC 9207 §2.4 (issuer mismatch);
OIDC Core §3.1.3.7 (ID token validation).
"""

from __future__ import annotations

__all__ = [
    "AuthorizationError",
    "ClientError",
    "DiscoveryError",
    "IdTokenError",
    "IssuerMismatch",
    "StateMismatch",
    "TokenError",
]


class ClientError(Exception):
    """Base class of the relying-party library's errors."""


class DiscoveryError(ClientError):
    """The provider's metadata could not be fetched or does not match the issuer."""


class StateMismatch(ClientError):
    """The callback's ``state`` is not the one this flow sent (CSRF, or a mixed-up flow)."""


class IssuerMismatch(ClientError):
    """The callback's ``iss`` is not the expected issuer (mix-up attack, RFC 9207)."""


class AuthorizationError(ClientError):
    """The authorization server answered the authorization request with an error."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(f"{error}: {description or ''}".rstrip(": "))
        self.error = error
        self.description = description


class TokenError(ClientError):
    """An error response from the token, revocation, introspection or userinfo endpoint."""

    def __init__(self, error: str, description: str | None = None, status: int = 400) -> None:
        super().__init__(f"{error}: {description or ''}".rstrip(": "))
        self.error = error
        self.description = description
        self.status = status


class IdTokenError(ClientError):
    """The ID token failed validation. After a refresh, ``token_set`` holds the new tokens
    (without claims): the old refresh token is spent, so keep the new one to try again."""

    def __init__(self, message: str, token_set: object | None = None) -> None:
        super().__init__(message)
        self.token_set = token_set
