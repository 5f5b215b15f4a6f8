"""The token endpoint: authenticate the client, check and redeem the grant, answer with tokens.

One database transaction per request. A grant's redemption returns its refusal rather than
raising it (``core/grants.py``), so a consumed code or rotated refresh token (and any
revocation a replay triggers) commits; the refusal is raised after the commit.

Spec: RFC 6749 §3.2, §4.1.3, §4.1.4, §5.1, §5.2; RFC 7636 §4.5-§4.6; OAuth 2.1 §4.1.3;
OIDC Core §3.1.3.
"""

from __future__ import annotations

from typing import Any

from authgate.core.errors import InvalidTarget, UnauthorizedClient, UnsupportedGrantType
from authgate.core.grants import Refused
from authgate.core.models import Client
from authgate.core.params import Params
from authgate.server.client_auth import authenticate_client, read_client_request
from authgate.server.context import ServerContext
from authgate.server.grants import GRANTS, Grant
from authgate.server.http import HttpRequest, JsonResponse
from authgate.server.issuance import mint

__all__ = ["token"]


async def token(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Spec: RFC 6749 §3.2 (POST only, form-encoded), §5."""
    form = await read_client_request(ctx, request, "grant_type", first=_one_resource)
    grant_type = form.required
    async with ctx.storage.transaction() as tx:
        client = await authenticate_client(ctx, tx, form.credentials)
        grant = _grant(client, grant_type)
        checked = grant.check(form.params.only(grant.parameters))
        redeemed = await grant.redeem(ctx, tx, client, checked)
        outcome = redeemed if isinstance(redeemed, Refused) else await mint(ctx, tx, redeemed)
    if isinstance(outcome, Refused):
        raise outcome.error
    return JsonResponse(outcome)


def _one_resource(params: Params) -> None:
    """Spec: RFC 8707 §2 (several resources are refused, not reduced to one)."""
    if "resource" in params.repeated:
        raise InvalidTarget("only one resource per request is supported")


def _grant(client: Client, grant_type: str) -> Grant[Any]:
    """The grant ``grant_type`` names, if this client may use it. Spec: RFC 6749 §5.2."""
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise UnsupportedGrantType(f"grant_type {grant_type} is not supported")
    if not client.allows_grant(grant_type):
        raise UnauthorizedClient(f"client is not registered for {grant_type}")
    return grant
