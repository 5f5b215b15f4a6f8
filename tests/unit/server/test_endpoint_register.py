"""POST /register in process: its branches through the real application, each error pinned
to its status, code and description.

Spec: RFC 7591 §3.1, §3.2.1, §3.2.2; RFC 6750 §3.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.protocol.documented import assert_error
from tests.protocol.inprocess import REDIRECT_URI, REGISTRATION_TOKEN, Server, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTH = {"authorization": f"Bearer {REGISTRATION_TOKEN}"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with running(tmp_path_factory.mktemp("register")) as s:
        yield s


async def register(server: Server, body: Any, **headers: str) -> httpx.Response:
    return await server.http.post("/register", json=body, headers=AUTH | headers)


async def test_a_confidential_client_is_registered(server: Server) -> None:
    r = await register(server, {"redirect_uris": [REDIRECT_URI], "client_name": "RP", "x": 1})
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["client_secret"].startswith("agcs_")
    assert body["client_secret_expires_at"] == 0
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["grant_types"] == ["authorization_code"]
    assert body["response_types"] == ["code"]
    assert body["client_name"] == "RP"
    assert "x" not in body


async def test_a_public_client_gets_no_secret(server: Server) -> None:
    r = await register(
        server, {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    )
    assert r.status_code == 201, r.text
    assert "client_secret" not in r.json()


async def test_registration_closed(tmp_path: Path) -> None:
    async with running(tmp_path, registration_token=None) as closed:
        r = await register(closed, {"redirect_uris": [REDIRECT_URI]})
    assert_error(r, 403, "access_denied", "dynamic client registration is closed on this server")


@pytest.mark.parametrize(
    ("headers", "description"),
    [
        ({}, "an initial access token is required"),
        ({"authorization": "Basic abc"}, "an initial access token is required"),
        ({"authorization": "Bearer "}, "an initial access token is required"),
        ({"authorization": "Bearer wrong"}, "the initial access token is invalid"),
    ],
)
async def test_the_initial_access_token(
    server: Server, headers: dict[str, str], description: str
) -> None:
    r = await server.http.post("/register", json={"redirect_uris": [REDIRECT_URI]}, headers=headers)
    assert_error(r, 401, "invalid_token", description)
    assert r.headers["www-authenticate"] == (
        f'Bearer realm="authgate", error="invalid_token", error_description="{description}"'
    )


async def test_the_body_must_be_json(server: Server) -> None:
    r = await server.http.post("/register", data={"redirect_uris": REDIRECT_URI}, headers=AUTH)
    assert_error(r, 400, "invalid_client_metadata", "the request body must be application/json")
    r = await server.http.post(
        "/register", content=b"{nope", headers=AUTH | {"content-type": "application/json"}
    )
    assert_error(r, 400, "invalid_client_metadata", "the request body is not valid JSON")


@pytest.mark.parametrize(
    ("body", "error", "description"),
    [
        ([1, 2], "invalid_client_metadata", "the request body must be a JSON object"),
        (
            {"redirect_uris": []},
            "invalid_redirect_uri",
            "redirect_uris is required for the authorization code flow",
        ),
        (
            {"redirect_uris": "x"},
            "invalid_client_metadata",
            "redirect_uris must be an array of strings",
        ),
        (
            {"redirect_uris": ["https://a.example/cb#x"]},
            "invalid_redirect_uri",
            "redirect URI must not contain a fragment",
        ),
        (
            {"redirect_uris": ["javascript:alert(1)"]},
            "invalid_redirect_uri",
            "redirect URI scheme javascript is not allowed",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "grant_types": ["password"]},
            "invalid_client_metadata",
            "unsupported grant type 'password'",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "response_types": ["token"]},
            "invalid_client_metadata",
            "only the response type 'code' is supported",
        ),
        (
            {
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "client_credentials"],
            },
            "invalid_client_metadata",
            "public clients cannot use the client_credentials grant",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "private_key_jwt"},
            "invalid_client_metadata",
            "private_key_jwt requires jwks or jwks_uri",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "jwks": {"keys": []}},
            "invalid_client_metadata",
            "jwks must be a JWK Set with 1 to 20 keys",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "logo_uri": "http://169.254.169.254/x"},
            "invalid_client_metadata",
            "logo_uri must be an https URL on a public host",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "scope": "a  b"},
            "invalid_client_metadata",
            "scope is malformed",
        ),
        (
            {"redirect_uris": [REDIRECT_URI], "refresh_token_ttl": 10},
            "invalid_client_metadata",
            "refresh_token_ttl must be an integer number of seconds (>= 60)",
        ),
    ],
)
async def test_invalid_metadata(server: Server, body: Any, error: str, description: str) -> None:
    r = await register(server, body)
    assert_error(r, 400, error, description)
    assert r.headers["cache-control"] == "no-store"


async def test_get_is_405(server: Server) -> None:
    assert (await server.http.get("/register")).status_code == 405
