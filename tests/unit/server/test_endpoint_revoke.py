"""POST /revoke in process: its branches through the real application, each error pinned to
its status, code and description.

Spec: RFC 7009 §2.1, §2.2, §2.2.1; RFC 6749 §2.3.1, §5.2.
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
    async with running(tmp_path_factory.mktemp("revoke")) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: Server) -> Client:
    return await server.register()


async def active(server: Server, client: Client, token: str) -> bool:
    r = await server.post("/introspect", client, {"token": token})
    return bool(r.json()["active"])


async def revoke(server: Server, client: Client | None, **data: str) -> None:
    r = await server.post("/revoke", client, data)
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert r.headers["cache-control"] == "no-store"


async def test_revoking_a_refresh_token_revokes_its_family(server: Server, client: Client) -> None:
    first = await server.tokens(client, await server.user())
    second = (
        await server.token(
            client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
    ).json()
    await revoke(server, client, token=second["refresh_token"], token_type_hint="refresh_token")
    for token in (first["access_token"], second["access_token"], second["refresh_token"]):
        assert not await active(server, client, token)


async def test_revoking_an_access_token_revokes_that_token(server: Server, client: Client) -> None:
    tokens = await server.tokens(client, await server.user())
    await revoke(server, client, token=tokens["access_token"], token_type_hint="access_token")
    assert not await active(server, client, tokens["access_token"])
    assert await active(server, client, tokens["refresh_token"])


async def test_a_wrong_hint_still_finds_the_token(server: Server, client: Client) -> None:
    tokens = await server.tokens(client, await server.user())
    await revoke(server, client, token=tokens["access_token"], token_type_hint="refresh_token")
    assert not await active(server, client, tokens["access_token"])


async def test_unknown_tokens_and_other_clients_tokens_are_left_alone(
    server: Server, client: Client
) -> None:
    tokens = await server.tokens(client, await server.user())
    thief = await server.register()
    await revoke(server, thief, token=tokens["access_token"])
    await revoke(server, thief, token=tokens["refresh_token"])
    await revoke(server, client, token="agrt_unknown")
    assert await active(server, client, tokens["access_token"])
    assert await active(server, client, tokens["refresh_token"])


async def test_a_repeated_parameter(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/revoke",
        content=b"token=a&token_type_hint=x&token_type_hint=y",
        headers=FORM,
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_error(r, 400, "invalid_request", "parameter token_type_hint is included more than once")
