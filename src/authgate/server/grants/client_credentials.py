"""``grant_type=client_credentials``: a token for the client itself: no user, no refresh
token, no ID token.

Spec: RFC 6749 §4.4.2, §4.4.3; RFC 8707 §2; OAuth 2.1 §4.2.
"""

from __future__ import annotations

from authgate.core.errors import InvalidTarget, OAuthError
from authgate.core.grants import (
    ClientCredentialsRequest,
    Issuance,
    Refused,
    client_credentials_request,
)
from authgate.core.models import Client, GrantType
from authgate.core.refresh import client_credentials_scopes
from authgate.server.context import ServerContext
from authgate.server.grants.base import Grant
from authgate.storage.base import Transaction

__all__ = ["GRANT"]


async def redeem(
    ctx: ServerContext, tx: Transaction, client: Client, request: ClientCredentialsRequest
) -> Issuance | Refused:
    """The registered resource asked for, and the scopes the client may have for it."""
    resource = await tx.resources.get(request.resource) if request.resource else None
    if request.resource and resource is None:
        return Refused(InvalidTarget("the resource is not registered with this server"))
    supported = ctx.supported_scopes | frozenset(resource.scopes if resource else ())
    try:
        scopes = client_credentials_scopes(request.scope, client, supported)
    except OAuthError as exc:
        return Refused(exc)
    return Issuance(
        grant_type=GrantType.CLIENT_CREDENTIALS.value,
        client=client,
        now=ctx.clock.now(),
        scopes=scopes,
        resource=resource,
    )


GRANT = Grant(frozenset({"scope", "resource"}), client_credentials_request, redeem)
