"""``grant_type=authorization_code``: exchange a code for tokens.

Spec: RFC 6749 §4.1.3, §4.1.2 (replay), §10.5; RFC 7636 §4.6; RFC 8707 §2.2; OAuth 2.1 §4.1.3.
"""

from __future__ import annotations

from datetime import datetime

from authgate.core.errors import InvalidGrant
from authgate.core.grants import (
    CodeExchange,
    Issuance,
    RefreshPlan,
    Refused,
    UserAuthorization,
    check_code_binding,
    check_resource_binding,
    code_exchange,
    refusal,
)
from authgate.core.models import Client, GrantType
from authgate.core.refresh import issues_refresh_token
from authgate.server.context import ServerContext
from authgate.server.grants.base import Grant, bound_resource
from authgate.storage.base import Consumed, Replayed, Transaction

__all__ = ["GRANT"]

_INVALID = "the authorization code is invalid or expired"


async def redeem(
    ctx: ServerContext, tx: Transaction, client: Client, exchange: CodeExchange
) -> Issuance | Refused:
    """Consume the code, then check it: from here on every error is returned. A replay by
    the client the code was issued to revokes what the code led to."""
    now = ctx.clock.now()
    result = await tx.codes.consume(ctx.hash_token(exchange.code), now)
    if result is None:
        return Refused(InvalidGrant(_INVALID))
    if isinstance(result, Replayed):
        return await _replayed(ctx, tx, client, result, now)
    code = result.code
    problem = (
        refusal(check_code_binding, code, client, exchange)
        or _live(result)
        or refusal(check_resource_binding, exchange.resource, code.resource)
    )
    if problem is not None:
        return problem
    resource = await bound_resource(tx, code.resource)
    if isinstance(resource, Refused):
        return resource
    plan = None
    if issues_refresh_token(client, code.scopes):
        plan = RefreshPlan(scopes=code.scopes, resource=code.resource)
    return Issuance(
        grant_type=GrantType.AUTHORIZATION_CODE.value,
        client=client,
        now=now,
        scopes=code.scopes,
        resource=resource,
        user=UserAuthorization.of(code, result.user_epoch, code.nonce),
        refresh=plan,
    )


def _live(consumed: Consumed) -> Refused | None:
    """Spec: RFC 6749 §10.4 (a code is only as good as the authorization it came from)."""
    if consumed.live_grant_id != consumed.code.grant_id:
        # The user was disabled, or the grant revoked or replaced (RFC 6749 §10.4).
        return Refused(InvalidGrant("the authorization is no longer valid"))
    return None


async def _replayed(
    ctx: ServerContext, tx: Transaction, client: Client, replayed: Replayed, now: datetime
) -> Refused:
    """Spec: RFC 6749 §4.1.2, §10.5 (revoke the tokens a replayed code led to)."""
    code = replayed.code
    if code.client_id != client.client_id:
        # Another client cannot use someone's spent code to revoke their tokens.
        return Refused(InvalidGrant(_INVALID))
    revoked = await tx.refresh_tokens.revoke_code_family(code, now)
    ctx.events.emit(
        "code.replayed", client_id=client.client_id, family=code.family_id, revoked=revoked
    )
    return Refused(InvalidGrant("the authorization code was already used"))


GRANT = Grant(
    frozenset({"code", "code_verifier", "redirect_uri", "resource"}), code_exchange, redeem
)
