"""The types of ``authgate.resource``'s public API, pinned for mypy --strict (never run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_type

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from authgate.crypto.keys import Jwk
from authgate.resource import (
    AccessToken,
    BearerTokenMiddleware,
    IntrospectionValidator,
    JwksCache,
    JwtValidator,
    RequireScope,
    TokenValidator,
    requires_scope,
)


async def validators(http: httpx.AsyncClient, clock: Callable[[], float]) -> None:
    jwks = JwksCache(
        "https://auth.example.com/jwks", http=http, ttl_seconds=300.0, min_refetch_seconds=30.0
    )
    assert_type(await jwks.key("kid"), Jwk | None)
    jwt = JwtValidator(
        issuer="https://auth.example.com",
        audience="urn:example:notes",
        jwks=jwks,
        algorithms=("ES256",),
        leeway_seconds=30,
        clock=clock,
    )
    introspection = IntrospectionValidator(
        introspection_endpoint="https://auth.example.com/introspect",
        client_id="api",
        client_secret="s",
        audience=None,
        cache_seconds=30.0,
        http=http,
        clock=clock,
    )
    for validator in (jwt, introspection):
        as_protocol: TokenValidator = validator
        token = await as_protocol.validate("t")
        assert_type(token, AccessToken)
    assert_type(await jwt.validate("t"), AccessToken)
    assert_type(await introspection.validate("t"), AccessToken)


def access_token(token: AccessToken) -> None:
    assert_type(token.subject, str | None)
    assert_type(token.client_id, str | None)
    assert_type(token.scopes, frozenset[str])
    assert_type(token.audience, tuple[str, ...])
    assert_type(token.expires_at, int | None)
    assert_type(token.has_scopes("a", "b"), bool)
    assert_type(token.claims["sub"], Any)


async def middleware_and_scopes(app: ASGIApp, validator: TokenValidator, request: Request) -> None:
    wrapped = BearerTokenMiddleware(app, validator, realm="notes", required=True)
    assert_type(wrapped.validator, TokenValidator)

    @requires_scope("notes:read", "notes:write", realm="notes")
    async def endpoint(request: Request) -> Response:
        return Response()

    assert_type(await endpoint(request), Response)
    dependency = RequireScope("notes:read", realm="notes")
    assert_type(await dependency(request), AccessToken)
