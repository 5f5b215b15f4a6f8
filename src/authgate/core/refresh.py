"""Refresh token policy: when one is issued, and how a refresh may change the scope.

Spec: RFC 6749 §1.5, §6 (scope narrowing; a new refresh token keeps the original scope),
§10.4; OIDC Core §11 (offline_access), §12 (refresh with an ID token); OAuth 2.1 §4.3.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from authgate.core.errors import InvalidScope
from authgate.core.models import Client, GrantType
from authgate.core.scope import parse_scope

__all__ = [
    "USER_SCOPES",
    "client_credentials_scopes",
    "issues_refresh_token",
    "narrow_scope",
    "successor_expiry",
]

USER_SCOPES = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})


def issues_refresh_token(client: Client, scopes: tuple[str, ...]) -> bool:
    """A refresh token goes to clients registered for the refresh grant, and, for OpenID
    Connect requests, only when ``offline_access`` was requested and consented (OIDC Core §11;
    the authorization endpoint keeps ``offline_access`` only with ``prompt=consent``).
    Plain OAuth requests (no ``openid``) get one whenever the client is registered for it.
    Spec: RFC 6749 §1.5, §5.1; OIDC Core §11."""
    if not client.allows_grant(GrantType.REFRESH_TOKEN):
        return False
    return "offline_access" in scopes or "openid" not in scopes


def narrow_scope(requested: str | None, granted: tuple[str, ...]) -> tuple[str, ...]:
    """The scope of the new access token: the original one, or a subset the client asks for;
    anything beyond the original grant is ``invalid_scope``. Spec: RFC 6749 §6."""
    if requested is None:
        return granted
    scopes = parse_scope(requested)
    wider = [s for s in scopes if s not in granted]
    if wider:
        raise InvalidScope(f"scope exceeds the original grant: {' '.join(wider)}")
    return scopes


def successor_expiry(now: datetime, idle_seconds: int, family_expires_at: datetime) -> datetime:
    """Idle expiry of a rotated token, never past the family's absolute expiry.
    Spec: RFC 9700 §4.14.2 (refresh tokens should expire if unused)."""
    return min(now + timedelta(seconds=idle_seconds), family_expires_at)


def client_credentials_scopes(
    requested: str | None, client: Client, supported: frozenset[str]
) -> tuple[str, ...]:
    """Scopes of a client_credentials token: those asked for, each known to the server, not
    about a user (OpenID Connect scopes make no sense without one) and within the client's
    registered ``scope``; a client that registered none gets none (deny by default: there is no
    resource owner to consent). Anything else is ``invalid_scope``; asking for nothing gives a
    token without scope. Spec: RFC 6749 §3.3, §4.4.2, §5.2."""
    allowed = (supported - USER_SCOPES) & set(client.scope or ())
    scopes = parse_scope(requested)
    refused = [s for s in scopes if s not in allowed]
    if refused:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(refused)}")
    return scopes
