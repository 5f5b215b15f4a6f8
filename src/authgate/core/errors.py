"""OAuth 2.0 / OpenID Connect errors: one exception class per registered error code.

Each class carries the RFC's definition as its docstring, the ``error`` code, the HTTP status and
extra headers. ``description`` is safe to send to clients (restricted to the RFC 6749 §5.2
charset); ``debug`` is for logs only and is never sent.

Spec: RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7591 §3.2.2; RFC 8707 §2;
OpenID Connect Core 1.0 §3.1.2.6.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccessDenied",
    "ConsentRequired",
    "InsufficientScope",
    "InteractionRequired",
    "InvalidClient",
    "InvalidClientMetadata",
    "InvalidGrant",
    "InvalidRedirectUri",
    "InvalidRequest",
    "InvalidScope",
    "InvalidTarget",
    "InvalidToken",
    "LoginRequired",
    "OAuthError",
    "RegistrationNotSupported",
    "RequestNotSupported",
    "RequestUriNotSupported",
    "ServerError",
    "TemporarilyUnavailable",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "UnsupportedResponseType",
    "UnsupportedTokenType",
    "safe_description",
]

# RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
_ALLOWED = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def safe_description(text: str) -> str:
    """Replace characters an ``error_description`` may not carry with ``?``.

    Spec: RFC 6749 §4.1.2.1, §5.2 (error_description charset).
    """
    return "".join(ch if ch in _ALLOWED else "?" for ch in text)[:500]


class OAuthError(Exception):
    """Base class: an error response defined by an OAuth or OpenID Connect specification."""

    error: ClassVar[str] = "invalid_request"
    status_code: ClassVar[int] = 400

    def __init_subclass__(cls, *, error: str = "", status_code: int = 0) -> None:
        """A code's class names its code (and a status other than 400) in its ``class`` line;
        a subclass without them keeps its parent's."""
        super().__init_subclass__()
        if error:
            cls.error = error
        if status_code:
            cls.status_code = status_code

    def __init__(self, description: str | None = None, *, debug: str | None = None) -> None:
        self.description = safe_description(description) if description else None
        self.debug = debug
        super().__init__(f"{self.error}: {description or ''}")

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers this error needs (e.g. ``WWW-Authenticate``)."""
        return {}

    def body(self) -> dict[str, str]:
        """The JSON error object. Spec: RFC 6749 §5.2."""
        out = {"error": self.error}
        if self.description:
            out["error_description"] = self.description
        return out


class InvalidRequest(OAuthError, error="invalid_request"):
    """The request is missing a required parameter, includes an invalid parameter value, includes a
    parameter more than once, or is otherwise malformed. (RFC 6749 §4.1.2.1, §5.2)"""


class InvalidClient(OAuthError, error="invalid_client", status_code=401):
    """Client authentication failed (e.g. unknown client, no client authentication included, or
    unsupported authentication method). (RFC 6749 §5.2)

    Answered with 401; when the client tried HTTP Basic, the response carries a
    ``WWW-Authenticate`` header matching that scheme.
    """

    def __init__(
        self, description: str | None = None, *, debug: str | None = None, basic: bool = False
    ) -> None:
        super().__init__(description, debug=debug)
        self.basic = basic

    def headers(self) -> dict[str, str]:
        if self.basic:
            return {"WWW-Authenticate": 'Basic realm="authgate"'}
        return {}


class InvalidGrant(OAuthError, error="invalid_grant"):
    """The provided authorization grant (e.g. authorization code, resource owner credentials) or
    refresh token is invalid, expired, revoked, does not match the redirection URI used in the
    authorization request, or was issued to another client. (RFC 6749 §5.2)"""


class UnauthorizedClient(OAuthError, error="unauthorized_client"):
    """The authenticated client is not authorized to use this authorization grant type or to
    request an authorization code using this method. (RFC 6749 §4.1.2.1, §5.2)"""


class UnsupportedGrantType(OAuthError, error="unsupported_grant_type"):
    """The authorization grant type is not supported by the authorization server. (RFC 6749 §5.2)"""


class UnsupportedResponseType(OAuthError, error="unsupported_response_type"):
    """The authorization server does not support obtaining an authorization code using this
    method. (RFC 6749 §4.1.2.1)"""


class InvalidScope(OAuthError, error="invalid_scope"):
    """The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the
    resource owner. (RFC 6749 §4.1.2.1, §5.2)"""


class AccessDenied(OAuthError, error="access_denied", status_code=403):
    """The resource owner or authorization server denied the request. (RFC 6749 §4.1.2.1)"""


class ServerError(OAuthError, error="server_error", status_code=500):
    """The authorization server encountered an unexpected condition that prevented it from
    fulfilling the request. (RFC 6749 §4.1.2.1)"""


class TemporarilyUnavailable(OAuthError, error="temporarily_unavailable", status_code=503):
    """The authorization server is currently unable to handle the request due to a temporary
    overloading or maintenance of the server. (RFC 6749 §4.1.2.1)"""


class InteractionRequired(OAuthError, error="interaction_required"):
    """The Authorization Server requires End-User interaction of some form to proceed.
    (OpenID Connect Core 1.0 §3.1.2.6)"""


class LoginRequired(OAuthError, error="login_required"):
    """The Authorization Server requires End-User authentication. (OpenID Connect Core 1.0
    §3.1.2.6)"""


class ConsentRequired(OAuthError, error="consent_required"):
    """The Authorization Server requires End-User consent. (OpenID Connect Core 1.0 §3.1.2.6)"""


class RequestNotSupported(OAuthError, error="request_not_supported"):
    """The OP does not support use of the ``request`` parameter. (OpenID Connect Core 1.0
    §3.1.2.6)"""


class RequestUriNotSupported(OAuthError, error="request_uri_not_supported"):
    """The OP does not support use of the ``request_uri`` parameter. (OpenID Connect Core 1.0
    §3.1.2.6)"""


class RegistrationNotSupported(OAuthError, error="registration_not_supported"):
    """The OP does not support use of the ``registration`` parameter. (OpenID Connect Core 1.0
    §3.1.2.6)"""


class InvalidToken(OAuthError, error="invalid_token", status_code=401):
    """The access token provided is expired, revoked, malformed, or invalid for other reasons.
    (RFC 6750 §3.1)"""

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": _bearer_challenge(self)}


class InsufficientScope(OAuthError, error="insufficient_scope", status_code=403):
    """The request requires higher privileges than provided by the access token. (RFC 6750 §3.1)"""

    def __init__(
        self, description: str | None = None, *, debug: str | None = None, scope: str = ""
    ) -> None:
        super().__init__(description, debug=debug)
        self.scope = safe_description(scope)

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": _bearer_challenge(self, scope=self.scope)}


class InvalidTarget(OAuthError, error="invalid_target"):
    """The requested resource is invalid, missing, unknown, or malformed. (RFC 8707 §2)"""


class UnsupportedTokenType(OAuthError, error="unsupported_token_type"):
    """The authorization server does not support the revocation of the presented token type.
    (RFC 7009 §2.2.1)"""


class InvalidRedirectUri(OAuthError, error="invalid_redirect_uri"):
    """The value of one or more redirection URIs is invalid. (RFC 7591 §3.2.2)"""


class InvalidClientMetadata(OAuthError, error="invalid_client_metadata"):
    """The value of one of the client metadata fields is invalid and the server has rejected this
    request. (RFC 7591 §3.2.2)"""


def _bearer_challenge(err: OAuthError, *, scope: str = "") -> str:
    """Build a ``WWW-Authenticate: Bearer`` challenge. Spec: RFC 6750 §3."""
    parts = ['realm="authgate"', f'error="{err.error}"']
    if err.description:
        parts.append(f'error_description="{err.description}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)
