"""authgate.resource against the live authorization server: JWT validation through its JWKS,
and introspection, as a resource server would run them. Spec: RFC 9068 §4; RFC 7662."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authgate.core.models import Resource
from authgate.resource import (
    BearerTokenMiddleware,
    IntrospectionValidator,
    JwksCache,
    JwtValidator,
    TokenValidator,
    requires_scope,
)
from tests.protocol.test_lifecycle import post
from tests.protocol.test_resources import add_resource
from tests.support.live import LiveServer


@requires_scope("api:read")
async def read(request: Request) -> Response:
    token = request.state.access_token
    return JSONResponse({"client_id": token.client_id, "scopes": sorted(token.scopes)})


def api_for(validator: TokenValidator) -> BearerTokenMiddleware:
    return BearerTokenMiddleware(Starlette(routes=[Route("/items", read)]), validator)


async def call(app: Any, token: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rs") as c:
        return await c.get("/items", headers={"authorization": f"Bearer {token}"})


def machine_client(register_client: Any, scope: str) -> dict[str, Any]:
    return register_client(
        grant_types=["client_credentials"], response_types=[], redirect_uris=[], scope=scope
    )


async def test_jwt_access_tokens_validated_with_the_servers_jwks(
    live: LiveServer, register_client: Any
) -> None:
    resource: Resource = add_resource(live, "jwt")
    service = machine_client(register_client, "api:read api:write")
    with httpx.Client(base_url=live.url) as api:
        good = post(
            api,
            "/token",
            service,
            grant_type="client_credentials",
            resource=resource.identifier,
            scope="api:read",
        ).json()["access_token"]
        weak = post(
            api,
            "/token",
            service,
            grant_type="client_credentials",
            resource=resource.identifier,
            scope="api:write",
        ).json()["access_token"]
        userinfo_token = post(api, "/token", service, grant_type="client_credentials").json()[
            "access_token"
        ]
    validator = JwtValidator(
        issuer=live.settings.issuer,
        audience=resource.identifier,
        jwks=JwksCache(f"{live.url}/jwks"),
    )
    app = api_for(validator)
    r = await call(app, good)
    assert r.status_code == 200 and r.json()["scopes"] == ["api:read"]
    assert (await call(app, weak)).status_code == 403
    assert (await call(app, userinfo_token)).status_code == 401  # opaque, not for this API
    other = add_resource(live, "jwt")
    with httpx.Client(base_url=live.url) as api:
        elsewhere = post(
            api, "/token", service, grant_type="client_credentials", resource=other.identifier
        ).json()["access_token"]
    assert (await call(app, elsewhere)).status_code == 401  # another audience


async def test_introspection_validator_sees_revocation(
    live: LiveServer, register_client: Any
) -> None:
    resource = add_resource(live, "opaque")
    service = machine_client(register_client, "api:read")
    rs = register_client(grant_types=["client_credentials"], response_types=[], redirect_uris=[])
    with httpx.Client(base_url=live.url) as api:
        token = post(
            api,
            "/token",
            service,
            grant_type="client_credentials",
            resource=resource.identifier,
            scope="api:read",
        ).json()["access_token"]
    validator = IntrospectionValidator(
        introspection_endpoint=f"{live.url}/introspect",
        client_id=rs["client_id"],
        client_secret=rs["client_secret"],
        audience=resource.identifier,
        cache_seconds=0,
    )
    app = api_for(validator)
    assert (await call(app, token)).status_code == 200
    with httpx.Client(base_url=live.url) as api:
        assert post(api, "/revoke", service, token=token).status_code == 200
    assert (await call(app, token)).status_code == 401
