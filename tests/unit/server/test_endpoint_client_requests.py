"""What /introspect and /revoke share: the client-authenticated form request they both read
(``server/client_auth.read_client_request``), in process, each error pinned to its status,
code and description.

Spec: RFC 7662 §2.1; RFC 7009 §2.1; RFC 6749 §2.3.1, §3.2, §5.2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.protocol.documented import assert_error
from tests.protocol.inprocess import Server, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

ENDPOINTS = ["/introspect", "/revoke"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running(tmp_path_factory.mktemp("client-requests")) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: Server) -> dict[str, Any]:
    return await server.register()


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_client_authentication_is_required(server: Server, path: str) -> None:
    r = await server.post(path, None, {"token": "x"})
    assert_error(r, 401, "invalid_client", "client authentication is required")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_a_wrong_secret(server: Server, client: dict[str, Any], path: str) -> None:
    r = await server.post(path, dict(client, client_secret="no"), {"token": "x"})
    assert_error(r, 401, "invalid_client", "client authentication failed")
    assert r.headers["www-authenticate"] == 'Basic realm="authgate"'


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_the_token_is_required(server: Server, client: dict[str, Any], path: str) -> None:
    r = await server.post(path, client, {"token_type_hint": "access_token"})
    assert_error(r, 400, "invalid_request", "missing required parameter token")


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_the_body_must_be_a_form(server: Server, client: dict[str, Any], path: str) -> None:
    r = await server.http.post(
        path, json={"token": "x"}, auth=(client["client_id"], client["client_secret"])
    )
    assert_error(
        r, 400, "invalid_request", "the request body must be application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_get_is_405(server: Server, path: str) -> None:
    assert (await server.http.get(path)).status_code == 405
