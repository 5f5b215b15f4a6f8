"""``grant_type=refresh_token``: rotate a refresh token. The old one dies, a successor of the
same family and scope is issued with a new access token (narrowed if asked) and, for OpenID,
a new ID token. Presenting a rotated token again revokes the whole family.

Spec: RFC 6749 §6, §10.4; RFC 9700 §4.14.2; OIDC Core §12.1-§12.2; OAuth 2.1 §4.3.
"""

from __future__ import annotations

from datetime import datetime

from authgate.core.errors import InvalidGrant, OAuthError
from authgate.core.grants import (
    Issuance,
    RefreshExchange,
    RefreshPlan,
    Refused,
    UserAuthorization,
    check_resource_binding,
    refresh_exchange,
    refusal,
)
from authgate.core.models import Client, GrantType, RefreshToken, Resource
from authgate.core.refresh import narrow_scope
from authgate.server.context import ServerContext
from authgate.server.grants.base import Grant, bound_resource
from authgate.storage.base import Locked, Reused, Transaction

__all__ = ["GRANT"]

_INVALID = "the refresh token is invalid, expired or revoked"


async def redeem(
    ctx: ServerContext, tx: Transaction, client: Client, exchange: RefreshExchange
) -> Issuance | Refused:
    """Read the token with its family locked and its user's live grant, check what the
    request asks, rotate, then issue the successor."""
    token_hash = ctx.hash_token(exchange.refresh_token)
    locked = await tx.refresh_tokens.lock(token_hash)
    if locked is None or locked.token.client_id != client.client_id:
        return Refused(InvalidGrant(_INVALID))
    now = ctx.clock.now()
    asked: Asked = ((), None)
    if locked.token.rotated_at is None:
        # Checked before rotating, so a bad request does not cost the client its token. A
        # rotated token skips them: whatever else it asks, it is reuse (below).
        checked = await _asked(tx, locked.token, exchange)
        if isinstance(checked, Refused):
            return checked
        asked = checked
    result = await tx.refresh_tokens.rotate(token_hash, client.client_id, now, locked=locked.token)
    if isinstance(result, Reused):
        revoked = await tx.refresh_tokens.revoke_family(result.token.family_id, now)
        ctx.events.emit(
            "refresh_token.reused",
            client_id=client.client_id,
            family=result.token.family_id,
            revoked=revoked,
        )
        return Refused(InvalidGrant("the refresh token was already used"))
    if result is None:
        return Refused(InvalidGrant(_INVALID))
    if locked.live_grant_id != result.token.grant_id:
        # The user was disabled, or the grant revoked or replaced: the token dies with it.
        await tx.refresh_tokens.revoke_family(result.token.family_id, now)
        return Refused(InvalidGrant("the authorization is no longer valid"))
    return _successor(client, locked, result.token, asked, now)


Asked = tuple[tuple[str, ...], Resource | None]
"""The scopes and resource a refresh asks for."""


async def _asked(
    tx: Transaction, current: RefreshToken, exchange: RefreshExchange
) -> Asked | Refused:
    """The scopes and resource the request asks for, within what the token was issued for.
    Spec: RFC 6749 §6; RFC 8707 §2.2."""
    try:
        scopes = narrow_scope(exchange.scope, current.scopes)
    except OAuthError as exc:
        return Refused(exc)
    problem = refusal(check_resource_binding, exchange.resource, current.resource)
    if problem is not None:
        return problem
    resource = await bound_resource(tx, current.resource)
    if isinstance(resource, Refused):
        return resource
    return scopes, resource


def _successor(
    client: Client, locked: Locked, old: RefreshToken, asked: Asked, now: datetime
) -> Issuance:
    """What the rotation issues. OIDC Core §12.2: same sub and aud, original auth_time, no
    nonce."""
    scopes, resource = asked
    plan = RefreshPlan(
        scopes=old.scopes, resource=old.resource, family_expires_at=old.family_expires_at
    )
    return Issuance(
        grant_type=GrantType.REFRESH_TOKEN.value,
        client=client,
        now=now,
        scopes=scopes,
        resource=resource,
        user=UserAuthorization.of(old, locked.user_epoch),
        refresh=plan,
    )


GRANT = Grant(frozenset({"refresh_token", "scope", "resource"}), refresh_exchange, redeem)
