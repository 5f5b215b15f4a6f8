"""GET and POST /userinfo in process: its branches through the real application, each error
pinned to its status, code, description and RFC 6750 challenge.

Spec: OIDC Core §5.3; RFC 6750 §2.1-§2.3, §3, §3.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from authgate.cli.users import set_disabled
from tests.protocol.documented import assert_error
from tests.protocol.inprocess import FORM, Server, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

Client = dict[str, Any]
INVALID = "the access token is invalid, expired or revoked"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running(tmp_path_factory.mktemp("userinfo")) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: Server) -> Client:
    return await server.register()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def token(server: Server, client: Client) -> str:
    tokens = await server.tokens(client, await server.user(name="Ada"), scope="openid email")
    return str(tokens["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def challenge(error: str, description: str, scope: str = "") -> str:
    value = f'Bearer realm="authgate", error="{error}", error_description="{description}"'
    return value + (f', scope="{scope}"' if scope else "")


def assert_bearer_error(r: httpx.Response, status: int, error: str, description: str) -> None:
    assert_error(r, status, error, description)
    assert r.headers["www-authenticate"] == challenge(error, description)
    assert r.headers["cache-control"] == "no-store"


async def test_claims_by_scope_over_get_and_post(server: Server, token: str) -> None:
    for r in (
        await server.http.get("/userinfo", headers=bearer(token)),
        await server.http.post("/userinfo", headers=bearer(token)),
        await server.http.post("/userinfo", data={"access_token": token}),
    ):
        assert r.status_code == 200, r.text
        claims = r.json()
        assert claims["sub"] and claims["email"].endswith("@example.com")
        assert "name" not in claims  # profile was not asked for


async def test_no_token_is_a_bare_challenge(server: Server) -> None:
    for r in (
        await server.http.get("/userinfo"),
        await server.http.get("/userinfo", headers={"authorization": "Basic eDp5"}),
    ):
        assert r.status_code == 401
        assert r.json() == {}
        assert r.headers["www-authenticate"] == 'Bearer realm="authgate"'


async def test_an_unknown_token(server: Server) -> None:
    r = await server.http.get("/userinfo", headers=bearer("agat_nope"))
    assert_bearer_error(r, 401, "invalid_token", INVALID)


async def test_a_malformed_token(server: Server) -> None:
    r = await server.http.get("/userinfo", headers={"authorization": "Bearer a b"})
    assert_bearer_error(r, 401, "invalid_token", "malformed bearer token")


async def test_a_revoked_token(server: Server, client: Client) -> None:
    tokens = await server.tokens(client, await server.user())
    await server.post("/revoke", client, {"token": tokens["access_token"]})
    r = await server.http.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert_bearer_error(r, 401, "invalid_token", INVALID)


async def test_a_disabled_users_token(server: Server, client: Client) -> None:
    user = await server.user()
    tokens = await server.tokens(client, user)
    async with server.ctx.storage.transaction() as tx:
        found = await tx.users.get_by_username(user[0])
    assert found is not None
    await set_disabled(server.ctx, found, True)
    r = await server.http.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert_bearer_error(r, 401, "invalid_token", INVALID)


async def test_a_client_credentials_token(server: Server) -> None:
    service = await server.register(
        grant_types=["client_credentials"], response_types=[], redirect_uris=[]
    )
    r = await server.token(service, {"grant_type": "client_credentials"})
    r = await server.http.get("/userinfo", headers=bearer(r.json()["access_token"]))
    assert_bearer_error(r, 401, "invalid_token", INVALID)


async def test_a_token_without_openid(server: Server, client: Client) -> None:
    tokens = await server.tokens(client, await server.user(), scope="email")
    r = await server.http.get("/userinfo", headers=bearer(tokens["access_token"]))
    description = "the access token lacks the openid scope"
    assert_error(r, 403, "insufficient_scope", description)
    assert r.headers["www-authenticate"] == challenge(
        "insufficient_scope", description, scope="openid"
    )


async def test_a_token_in_the_query(server: Server, token: str) -> None:
    r = await server.http.get(f"/userinfo?access_token={token}")
    assert_bearer_error(
        r, 400, "invalid_request", "access tokens are not accepted in the query string"
    )


async def test_a_token_in_two_places(server: Server, token: str) -> None:
    r = await server.http.post("/userinfo", data={"access_token": token}, headers=bearer(token))
    assert_bearer_error(r, 400, "invalid_request", "send the access token in one place only")


@pytest.mark.parametrize(
    ("content", "headers", "description"),
    [
        (
            b'{"a": 1}',
            {"content-type": "application/json"},
            "the request body must be application/x-www-form-urlencoded",
        ),
        (b"a=%00", FORM, "parameter contains a NUL character"),
        (b"a=" + b"b" * 9000, FORM, "parameter too long"),
    ],
)
async def test_a_body_that_is_not_a_readable_form(
    server: Server, token: str, content: bytes, headers: dict[str, str], description: str
) -> None:
    r = await server.http.post("/userinfo", content=content, headers=headers | bearer(token))
    assert_bearer_error(r, 400, "invalid_request", description)


async def test_a_repeated_access_token_in_the_form_has_no_challenge(server: Server) -> None:
    r = await server.http.post("/userinfo", content=b"access_token=a&access_token=b", headers=FORM)
    assert_error(r, 400, "invalid_request", "parameter access_token is included more than once")
    assert "www-authenticate" not in r.headers


async def test_a_repeated_authorization_header(server: Server, token: str) -> None:
    r = await server.http.get("/userinfo", headers=[("authorization", f"Bearer {token}")] * 2)
    assert_error(r, 400, "invalid_request", "the Authorization header is repeated")
    assert "www-authenticate" not in r.headers


async def test_other_methods_are_405(server: Server) -> None:
    assert (await server.http.delete("/userinfo")).status_code == 405
