"""POST /introspect in process: its branches through the real application, each error pinned
to its status, code and description.

Spec: RFC 7662 §2.1-§2.3, §4; RFC 6749 §2.3.1, §5.2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.protocol.documented import assert_error
from tests.protocol.inprocess import FORM, Server, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

Client = dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running(tmp_path_factory.mktemp("introspect")) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: Server) -> Client:
    return await server.register()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def issued(server: Server, client: Client) -> dict[str, Any]:
    return await server.tokens(client, await server.user())


async def introspect(server: Server, client: Client | None, **data: str) -> dict[str, Any]:
    r = await server.post("/introspect", client, data)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return dict(r.json())


async def test_an_access_token_is_described(
    server: Server, client: Client, issued: dict[str, Any]
) -> None:
    body = await introspect(server, client, token=issued["access_token"])
    assert body["active"] is True
    assert body["token_type"] == "Bearer"
    assert body["client_id"] == client["client_id"]
    assert body["iss"] == server.settings.issuer == body["aud"]
    assert set(body["scope"].split()) == {"openid", "profile", "email", "offline_access"}
    assert body["sub"] and body["exp"] > body["iat"]


async def test_any_confidential_client_may_introspect_an_access_token(
    server: Server, issued: dict[str, Any]
) -> None:
    resource_server = await server.register()
    body = await introspect(server, resource_server, token=issued["access_token"])
    assert body["active"] is True


async def test_a_refresh_token_is_described_to_its_client_only(
    server: Server, client: Client, issued: dict[str, Any]
) -> None:
    token = issued["refresh_token"]
    body = await introspect(server, client, token=token, token_type_hint="refresh_token")
    assert body["active"] is True and body["token_type"] == "refresh_token"
    assert (await introspect(server, client, token=token))["active"] is True  # hint or not
    other = await server.register()
    assert await introspect(server, other, token=token) == {"active": False}


@pytest.mark.parametrize("token", ["agat_nope", "agrt_nope", "x"])
async def test_unknown_tokens_are_inactive_and_nothing_else(
    server: Server, client: Client, token: str
) -> None:
    assert await introspect(server, client, token=token) == {"active": False}


async def test_a_revoked_token_is_inactive(server: Server, client: Client) -> None:
    tokens = await server.tokens(client, await server.user())
    r = await server.post("/revoke", client, {"token": tokens["refresh_token"]})
    assert r.status_code == 200
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert await introspect(server, client, token=token) == {"active": False}


async def test_a_public_client_may_not_introspect(server: Server, issued: dict[str, Any]) -> None:
    public = await server.register(token_endpoint_auth_method="none")
    data = {"token": issued["access_token"], "client_id": public["client_id"]}
    r = await server.post("/introspect", None, data)
    assert_error(
        r, 401, "invalid_client", "introspection requires an authenticated confidential client"
    )


async def test_a_repeated_parameter(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/introspect",
        content=b"token=a&token=b",
        headers=FORM,
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_error(r, 400, "invalid_request", "parameter token is included more than once")
