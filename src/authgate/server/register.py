"""Dynamic client registration, gated by an initial access token.

Spec: RFC 7591 §3 (endpoint), §3.1 (initial access token), §3.2.1 (response: client_secret
returned once, client_secret_expires_at), §3.2.2 (errors); OIDC Dynamic Client Registration 1.0.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson

from authgate.core.errors import AccessDenied, InvalidClientMetadata, InvalidToken
from authgate.core.models import AuthMethod, Client
from authgate.core.registration import ClientMetadata, validate_metadata
from authgate.core.scope import format_scope
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.storage.base import DuplicateError

__all__ = ["CLIENT_SECRET_PREFIX", "client_metadata_json", "create_client", "register"]

CLIENT_SECRET_PREFIX = "agcs_"  # noqa: S105 - a name, not a secret


def _check_initial_token(ctx: ServerContext, request: HttpRequest) -> None:
    expected = ctx.settings.registration_token
    if expected is None:
        raise AccessDenied("dynamic client registration is closed on this server")
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken("an initial access token is required")
    if not hmac.compare_digest(value.strip().encode(), expected.get_secret_value().encode()):
        raise InvalidToken("the initial access token is invalid")


async def register(ctx: ServerContext, request: HttpRequest) -> JsonResponse:
    """Register a client from JSON metadata. Spec: RFC 7591 §3.1, §3.2."""
    _check_initial_token(ctx, request)
    if request.content_type != "application/json":
        raise InvalidClientMetadata("the request body must be application/json")
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise InvalidClientMetadata("the request body is not valid JSON") from None
    metadata = validate_metadata(body, ctx.keys.algorithms)
    client, secret = await create_client(ctx, metadata)
    ctx.events.emit("client.registered", client_id=client.client_id)
    return JsonResponse(client_metadata_json(client, secret), status=201)


async def create_client(
    ctx: ServerContext, metadata: ClientMetadata, client_id: str | None = None
) -> tuple[Client, str | None]:
    """Store a new client; return it with its secret (shown once, stored only as a hash)."""
    secret = None
    if metadata.token_endpoint_auth_method in (
        AuthMethod.CLIENT_SECRET_BASIC,
        AuthMethod.CLIENT_SECRET_POST,
    ):
        secret = ctx.random.secret(CLIENT_SECRET_PREFIX)
    client = Client(
        client_id=client_id or ctx.random.identifier(),
        redirect_uris=metadata.redirect_uris,
        token_endpoint_auth_method=metadata.token_endpoint_auth_method,
        grant_types=metadata.grant_types,
        response_types=metadata.response_types,
        secret_hash=ctx.hash_token(secret) if secret else None,
        scope=metadata.scope,
        client_name=metadata.client_name,
        application_type=metadata.application_type,
        id_token_signed_response_alg=metadata.id_token_signed_response_alg,
        post_logout_redirect_uris=metadata.post_logout_redirect_uris,
        jwks=metadata.jwks,
        jwks_uri=metadata.jwks_uri,
        metadata=metadata.extra,
        created_at=ctx.clock.now(),
    )
    async with ctx.storage.transaction() as tx:
        try:
            await tx.clients.add(client)
        except DuplicateError:
            raise InvalidClientMetadata(f"client_id {client.client_id} already exists") from None
    return client, secret


def client_metadata_json(client: Client, secret: str | None) -> dict[str, Any]:
    """The registration response. Spec: RFC 7591 §3.2.1."""
    out: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()) if client.created_at else 0,
        "redirect_uris": list(client.redirect_uris),
        "token_endpoint_auth_method": client.token_endpoint_auth_method.value,
        "grant_types": list(client.grant_types),
        "response_types": list(client.response_types),
        "application_type": client.application_type.value,
    }
    if secret is not None:
        out["client_secret"] = secret
        out["client_secret_expires_at"] = 0
    if client.scope is not None:
        out["scope"] = format_scope(client.scope)
    optional = {
        "client_name": client.client_name,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "jwks": client.jwks,
        "jwks_uri": client.jwks_uri,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if client.post_logout_redirect_uris:
        out["post_logout_redirect_uris"] = list(client.post_logout_redirect_uris)
    out.update(client.metadata)
    return out
