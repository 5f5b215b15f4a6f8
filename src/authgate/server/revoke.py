"""Token revocation by the client the token was issued to.

Revoking a refresh token revokes its whole family (the refresh token and every access token
of the same authorization); revoking an access token revokes that token. Unknown tokens, and
tokens of other clients, are answered 200 like a success and left alone: to the requesting
client they are invalid tokens, which RFC 7009 §2.2 says do not cause an error.

Spec: RFC 7009 §2.1 (request, token_type_hint), §2.2 (response), §2.2.1 (errors).
"""

from __future__ import annotations

from authgate.core.models import Client
from authgate.server.access_tokens import find_access_token, revoke_access_token
from authgate.server.client_auth import authenticate_client, read_client_request
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.storage.base import Transaction

__all__ = ["revoke"]


async def revoke(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Spec: RFC 7009 §2.1, §2.2."""
    form = await read_client_request(ctx, request, "token")
    refresh_first = form.params.get_one("token_type_hint") != "access_token"
    async with ctx.storage.transaction() as tx:
        client = await authenticate_client(ctx, tx, form.credentials)
        steps = (_refresh, _access) if refresh_first else (_access, _refresh)
        for step in steps:
            if await step(ctx, tx, client, form.required):
                break
    return JsonResponse(b"{}")


async def _refresh(ctx: ServerContext, tx: Transaction, client: Client, token: str) -> bool:
    record = await tx.refresh_tokens.get(ctx.hash_token(token))
    if record is None:
        return False
    if record.client_id == client.client_id:
        revoked = await tx.refresh_tokens.revoke_family(record.family_id, ctx.clock.now())
        ctx.events.emit(
            "token.revoked", client_id=client.client_id, kind="refresh_token", revoked=revoked
        )
    return True


async def _access(ctx: ServerContext, tx: Transaction, client: Client, token: str) -> bool:
    now = ctx.clock.now()
    record, _ = await find_access_token(ctx, tx, token, now)
    if record is None:
        return False
    if record.client_id == client.client_id:
        await revoke_access_token(ctx, tx, token, record, now)
        ctx.events.emit("token.revoked", client_id=client.client_id, kind="access_token")
    return True
