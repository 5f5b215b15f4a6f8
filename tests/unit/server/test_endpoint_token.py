"""POST /token in process: every branch of the token endpoint through the real application
(``httpx.ASGITransport``, SQLite), each error pinned to its status, code and description.

Spec: RFC 6749 §2.3.1, §3.2, §4.1.3, §4.4, §5.1, §5.2, §6; RFC 7636 §4.5-§4.6; RFC 8707 §2.2;
RFC 9700 §4.14.2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from authgate.cli.users import set_disabled
from tests.protocol.documented import assert_error
from tests.protocol.inprocess import FORM, Server, Shifted, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

Client = dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running(tmp_path_factory.mktemp("token")) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: Server) -> Client:
    return await server.register()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def user(server: Server) -> tuple[str, str]:
    return await server.user()


def assert_json_error(r: httpx.Response, status: int, error: str, description: str) -> None:
    assert_error(r, status, error, description)
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["pragma"] == "no-cache"


# -- happy paths -------------------------------------------------------------------------------


async def test_code_exchange_issues_tokens(server: Server, client: Client, user: Any) -> None:
    code, verifier = await server.code(client, user)
    r = await server.exchange(client, code, verifier)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["pragma"] == "no-cache"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == server.settings.access_token_ttl
    assert {"access_token", "id_token", "refresh_token"} <= body.keys()
    assert set(body["scope"].split()) == {"openid", "profile", "email", "offline_access"}


async def test_refresh_rotates(server: Server, client: Client, user: Any) -> None:
    first = await server.tokens(client, user)
    r = await server.token(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] != first["refresh_token"]
    narrow = await server.token(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": r.json()["refresh_token"],
            "scope": "profile",
        },
    )
    assert narrow.status_code == 200, narrow.text
    assert narrow.json()["scope"] == "profile"


async def test_client_credentials(server: Server) -> None:
    service = await server.register(
        grant_types=["client_credentials"], response_types=[], redirect_uris=[], scope="api:read"
    )
    r = await server.token(service, {"grant_type": "client_credentials", "scope": "api:read"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "api:read"
    assert "refresh_token" not in body and "id_token" not in body
    refused = await server.token(service, {"grant_type": "client_credentials", "scope": "openid"})
    assert_json_error(refused, 400, "invalid_scope", "scope not allowed for this client: openid")
    unknown = await server.token(
        service, {"grant_type": "client_credentials", "resource": "urn:example:nope"}
    )
    assert_json_error(
        unknown, 400, "invalid_target", "the resource is not registered with this server"
    )


# -- the request -------------------------------------------------------------------------------


async def test_body_must_be_a_form(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/token",
        json={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_json_error(
        r, 400, "invalid_request", "the request body must be application/x-www-form-urlencoded"
    )


@pytest.mark.parametrize(
    ("content", "description"),
    [
        ("code=x", "missing required parameter grant_type"),
        (
            "grant_type=authorization_code&code=a&code=b",
            "parameter code is included more than once",
        ),
        ("grant_type=authorization_code", "missing required parameter code"),
        ("grant_type=refresh_token", "missing required parameter refresh_token"),
        ("grant_type=authorization_code&code=x", "code_verifier is required (PKCE)"),
        ("a=%00", "parameter contains a NUL character"),
        ("a=\xff", "request parameters must be URL-encoded ASCII"),
    ],
)
async def test_malformed_requests(
    server: Server, client: Client, content: str, description: str
) -> None:
    r = await server.http.post(
        "/token",
        content=content.encode("latin-1"),
        headers=FORM,
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_json_error(r, 400, "invalid_request", description)


async def test_two_resources_are_invalid_target(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/token",
        content=b"grant_type=refresh_token&refresh_token=x&resource=urn:a&resource=urn:b",
        headers=FORM,
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_json_error(r, 400, "invalid_target", "only one resource per request is supported")


async def test_unsupported_grant_type(server: Server, client: Client) -> None:
    r = await server.token(client, {"grant_type": "password"})
    assert_json_error(r, 400, "unsupported_grant_type", "grant_type password is not supported")


async def test_grant_not_registered(server: Server, client: Client) -> None:
    r = await server.token(client, {"grant_type": "client_credentials"})
    assert_json_error(
        r, 400, "unauthorized_client", "client is not registered for client_credentials"
    )


async def test_get_is_405_and_a_large_body_413(server: Server) -> None:
    assert (await server.http.get("/token")).status_code == 405
    r = await server.http.post("/token", content=b"a=" + b"b" * 70000, headers=FORM)
    assert r.status_code == 413


# -- client authentication ---------------------------------------------------------------------


async def test_no_client_authentication(server: Server) -> None:
    r = await server.post("/token", None, {"grant_type": "client_credentials"})
    assert_json_error(r, 401, "invalid_client", "client authentication is required")
    assert "www-authenticate" not in r.headers


async def test_wrong_secret_has_a_basic_challenge(server: Server, client: Client) -> None:
    r = await server.post(
        "/token", dict(client, client_secret="wrong"), {"grant_type": "client_credentials"}
    )
    assert_json_error(r, 401, "invalid_client", "client authentication failed")
    assert r.headers["www-authenticate"] == 'Basic realm="authgate"'


async def test_unknown_client_looks_like_a_wrong_secret(server: Server, client: Client) -> None:
    r = await server.post(
        "/token", {"client_id": "nobody", "client_secret": "x"}, {"grant_type": "password"}
    )
    assert_json_error(r, 401, "invalid_client", "client authentication failed")


async def test_another_method_than_the_registered_one(server: Server, client: Client) -> None:
    data = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    r = await server.post("/token", None, data)
    assert_json_error(r, 401, "invalid_client", "client authentication failed")
    assert "www-authenticate" not in r.headers


@pytest.mark.parametrize(
    ("authorization", "status", "error", "description"),
    [
        ("Bearer abc", 401, "invalid_client", "unsupported Authorization scheme"),
        ("Basic !!!", 401, "invalid_client", "malformed Basic credentials"),
        ("Basic bm9jb2xvbg==", 401, "invalid_client", "malformed Basic credentials"),
    ],
)
async def test_malformed_authorization(
    server: Server, authorization: str, status: int, error: str, description: str
) -> None:
    r = await server.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"authorization": authorization},
    )
    assert_json_error(r, status, error, description)


async def test_client_id_must_match_basic(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "someone-else"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_json_error(r, 401, "invalid_client", "client_id does not match the Basic credentials")


async def test_only_one_authentication_method(server: Server, client: Client) -> None:
    r = await server.http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_secret": "x"},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert_json_error(r, 400, "invalid_request", "use exactly one client authentication method")


async def test_unsupported_assertion_type(server: Server, client: Client) -> None:
    data = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_assertion_type": "urn:example:other",
        "client_assertion": "x",
    }
    r = await server.post("/token", None, data)
    assert_json_error(r, 400, "invalid_request", "unsupported client_assertion_type")


async def test_malformed_assertion(server: Server) -> None:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "not-a-jwt",
    }
    r = await server.post("/token", None, data)
    assert_json_error(r, 401, "invalid_client", "client_assertion is malformed")


async def test_repeated_authorization_header(server: Server) -> None:
    r = await server.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=[("authorization", "Basic eDp5"), ("authorization", "Basic eTp6")],
    )
    assert_json_error(r, 400, "invalid_request", "the Authorization header is repeated")


# -- authorization_code --------------------------------------------------------------------


async def test_unknown_code(server: Server, client: Client) -> None:
    r = await server.exchange(client, "not-a-code", "v" * 43)
    assert_json_error(r, 400, "invalid_grant", "the authorization code is invalid or expired")


async def test_replayed_code_revokes_what_it_issued(
    server: Server, client: Client, user: Any
) -> None:
    code, verifier = await server.code(client, user)
    first = (await server.exchange(client, code, verifier)).json()
    r = await server.exchange(client, code, verifier)
    assert_json_error(r, 400, "invalid_grant", "the authorization code was already used")
    refreshed = await server.token(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert_json_error(
        refreshed, 400, "invalid_grant", "the refresh token is invalid, expired or revoked"
    )


async def test_code_of_another_client(server: Server, client: Client, user: Any) -> None:
    code, verifier = await server.code(client, user)
    other = await server.register()
    r = await server.exchange(other, code, verifier)
    assert_json_error(
        r, 400, "invalid_grant", "the authorization code was issued to another client"
    )
    # Spent now: the client it was issued to gets the answer for an unknown code... as a replay.
    again = await server.exchange(client, code, verifier)
    assert_json_error(again, 400, "invalid_grant", "the authorization code was already used")


@pytest.mark.parametrize(
    ("override", "description"),
    [
        (
            {"redirect_uri": "http://127.0.0.1:9349/other"},
            "redirect_uri does not match the authorization request",
        ),
        (
            {"redirect_uri": ""},
            "redirect_uri is required: it was sent in the authorization request",
        ),
        ({"code_verifier": "short"}, "code_verifier is malformed"),
        ({"code_verifier": "v" * 43}, "code_verifier does not match the code_challenge"),
    ],
)
async def test_code_binding(
    server: Server, client: Client, user: Any, override: dict[str, str], description: str
) -> None:
    code, verifier = await server.code(client, user)
    r = await server.exchange(client, code, verifier, **override)
    assert_json_error(r, 400, "invalid_grant", description)
    # A code that failed a check after it was found is used up.
    retry = await server.exchange(client, code, verifier)
    assert_json_error(retry, 400, "invalid_grant", "the authorization code was already used")


async def test_expired_code(server: Server, client: Client, user: Any) -> None:
    code, verifier = await server.code(client, user)
    real = server.ctx.clock
    server.ctx.clock = Shifted(real, timedelta(seconds=server.settings.code_ttl + 1))
    try:
        r = await server.exchange(client, code, verifier)
    finally:
        server.ctx.clock = real
    assert_json_error(r, 400, "invalid_grant", "the authorization code is invalid or expired")


async def test_code_of_a_disabled_user(server: Server, client: Client) -> None:
    user = await server.user()
    code, verifier = await server.code(client, user)
    async with server.ctx.storage.transaction() as tx:
        found = await tx.users.get_by_username(user[0])
    assert found is not None
    await set_disabled(server.ctx, found, True)
    r = await server.exchange(client, code, verifier)
    assert_json_error(r, 400, "invalid_grant", "the authorization is no longer valid")


async def test_code_for_another_resource(server: Server, client: Client, user: Any) -> None:
    code, verifier = await server.code(client, user)
    r = await server.exchange(client, code, verifier, resource="urn:example:other")
    assert_json_error(r, 400, "invalid_target", "the resource was not part of this authorization")


# -- refresh_token -------------------------------------------------------------------------


async def refresh(server: Server, client: Client, token: str, **extra: str) -> httpx.Response:
    return await server.token(
        client, {"grant_type": "refresh_token", "refresh_token": token, **extra}
    )


async def test_unknown_refresh_token(server: Server, client: Client) -> None:
    r = await refresh(server, client, "agrt_nope")
    assert_json_error(r, 400, "invalid_grant", "the refresh token is invalid, expired or revoked")


async def test_refresh_token_reuse_revokes_the_family(
    server: Server, client: Client, user: Any
) -> None:
    first = await server.tokens(client, user)
    second = (await refresh(server, client, first["refresh_token"])).json()
    r = await refresh(server, client, first["refresh_token"])
    assert_json_error(r, 400, "invalid_grant", "the refresh token was already used")
    successor = await refresh(server, client, second["refresh_token"])
    assert_json_error(
        successor, 400, "invalid_grant", "the refresh token is invalid, expired or revoked"
    )


async def test_refresh_scope_cannot_widen(server: Server, client: Client, user: Any) -> None:
    body = await server.tokens(client, user, scope="openid offline_access")
    r = await refresh(server, client, body["refresh_token"], scope="openid email")
    assert_json_error(r, 400, "invalid_scope", "scope exceeds the original grant: email")
    # Checked before the rotation: the token still works.
    assert (await refresh(server, client, body["refresh_token"])).status_code == 200


async def test_refresh_token_of_another_client(server: Server, client: Client, user: Any) -> None:
    body = await server.tokens(client, user)
    other = await server.register()
    r = await refresh(server, other, body["refresh_token"])
    assert_json_error(r, 400, "invalid_grant", "the refresh token is invalid, expired or revoked")


async def test_refresh_for_another_resource(server: Server, client: Client, user: Any) -> None:
    body = await server.tokens(client, user)
    r = await refresh(server, client, body["refresh_token"], resource="urn:example:other")
    assert_json_error(r, 400, "invalid_target", "the resource was not part of this authorization")
