"""Token introspection for resource servers (which authenticate as clients).

Any authenticated confidential client may introspect access tokens: resource servers need to
check tokens issued to other clients. Refresh tokens are described only to the client they
were issued to. Unknown, expired and revoked tokens all get ``{"active": false}`` and nothing
else, so the answer reveals nothing about them.

Spec: RFC 7662 §2.1 (request, token_type_hint), §2.2 (response), §2.3 (errors), §4.
"""

from __future__ import annotations

from typing import Any

from authgate.core.errors import InvalidClient
from authgate.core.scope import format_scope
from authgate.server.access_tokens import find_access_token
from authgate.server.client_auth import authenticate_client, read_client_request
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.storage.base import Transaction

__all__ = ["introspect"]

INACTIVE: dict[str, Any] = {"active": False}


async def introspect(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Spec: RFC 7662 §2.1-§2.3."""
    form = await read_client_request(ctx, request, "token")
    refresh_first = form.params.get_one("token_type_hint") == "refresh_token"
    async with ctx.storage.transaction() as tx:
        client = await authenticate_client(ctx, tx, form.credentials)
        if client.is_public:
            # RFC 7662 §2.1: the caller must be authorized; a public client proves nothing.
            raise InvalidClient("introspection requires an authenticated confidential client")
        body = await _describe(ctx, tx, form.required, refresh_first, client.client_id)
    return JsonResponse(body)


async def _describe(
    ctx: ServerContext, tx: Transaction, token: str, refresh_first: bool, caller: str
) -> dict[str, Any]:
    # The hint only orders the lookups: a wrong hint still finds the token (RFC 7662 §2.1).
    lookups = (_refresh, _access) if refresh_first else (_access, _refresh)
    for lookup in lookups:
        found = await lookup(ctx, tx, token, caller)
        if found is not None:
            return found
    return INACTIVE


async def _access(
    ctx: ServerContext, tx: Transaction, token: str, caller: str
) -> dict[str, Any] | None:
    now = ctx.clock.now()
    record, _ = await find_access_token(ctx, tx, token, now)
    if record is None:
        return None
    if not record.is_active(now):
        return INACTIVE
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "client_id": record.client_id,
        "exp": int(record.expires_at.timestamp()),
        "iat": int(record.issued_at.timestamp()),
        "iss": ctx.endpoints.issuer,
        "aud": record.audience or ctx.endpoints.issuer,
    }
    if record.scopes:
        body["scope"] = format_scope(record.scopes)
    if record.user_id is not None:
        body["sub"] = record.user_id
    return body


async def _refresh(
    ctx: ServerContext, tx: Transaction, token: str, caller: str
) -> dict[str, Any] | None:
    record = await tx.refresh_tokens.get(ctx.hash_token(token))
    if record is None:
        return None
    if record.client_id != caller:
        # Refresh tokens are no business of resource servers (RFC 7662 §4): only the client
        # they were issued to learns anything about one.
        return INACTIVE
    if not record.is_active(ctx.clock.now()):
        return INACTIVE
    return {
        "active": True,
        "token_type": "refresh_token",
        "client_id": record.client_id,
        "sub": record.user_id,
        "exp": int(record.expires_at.timestamp()),
        "iat": int(record.issued_at.timestamp()),
        "iss": ctx.endpoints.issuer,
    } | ({"scope": format_scope(record.scopes)} if record.scopes else {})
