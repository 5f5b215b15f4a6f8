"""authgate.client against the live server: the flow for each client type, refresh, revoke,
userinfo, introspection, refresh-on-401, and the synchronous facade.

Spec: RFC 6749 §4.1; RFC 7636; RFC 9207; OIDC Core §3.1.3.7; RFC 7009; RFC 7662.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authgate.client import (
    AuthorizationError,
    Client,
    DiscoveryError,
    MemoryTokenStore,
    RefreshingAuth,
    StateMismatch,
    SyncClient,
)
from tests.support.flow import Browser
from tests.support.live import LiveServer

REDIRECT = "http://127.0.0.1:9999/cb"


def follow(browser: Browser, url: str, user: tuple[str, str], allow: bool = True) -> str:
    """Play the user: sign in and answer consent; return the callback URL."""
    page = browser.follow_to_page(browser.get(url))
    if 'type="password"' in page.text:
        page = browser.login(page, *user)
    if 'value="allow"' in page.text:
        page = browser.consent(page, allow=allow)
    assert page.status_code in (302, 303)
    return str(page.headers["location"])


@pytest.mark.parametrize(
    "method", ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"]
)
async def test_full_flow_for_each_client_type(
    live: LiveServer, browser: Browser, register_client: Any, make_user: Any, method: str
) -> None:
    extra: dict[str, Any] = {}
    key = ECKey.generate_key("P-256", parameters={"kid": "rp"}, private=True)
    if method == "private_key_jwt":
        extra["jwks"] = {"keys": [key.as_dict(private=False)]}
    reg = register_client(
        token_endpoint_auth_method=method,
        redirect_uris=[REDIRECT],
        grant_types=["authorization_code", "refresh_token"],
        **extra,
    )
    client = await Client.from_issuer(
        live.settings.issuer,
        reg["client_id"],
        reg.get("client_secret"),
        auth_method=method,
        private_key=key if method == "private_key_jwt" else None,
        private_key_alg="ES256",
    )
    try:
        url, flow = client.start_authorization(
            REDIRECT, scope="openid profile email offline_access", prompt="consent"
        )
        tokens = await client.finish_authorization(follow(browser, url, make_user()), flow)
        assert tokens.claims["aud"] == reg["client_id"] and tokens.refresh_token
        assert (await client.userinfo(tokens.access_token))["sub"] == tokens.claims["sub"]
        fresh = await client.refresh(tokens)
        assert fresh.refresh_token != tokens.refresh_token
        assert fresh.claims["sub"] == tokens.claims["sub"]
        if method != "none":
            info = await client.introspect(fresh.access_token)
            assert info["active"] is True
        await client.revoke(fresh.refresh_token or "", "refresh_token")
        with pytest.raises(Exception, match="invalid_grant"):
            await client.refresh(fresh)
    finally:
        await client.aclose()


async def test_state_mismatch_and_denied_consent(
    live: LiveServer, browser: Browser, register_client: Any, make_user: Any
) -> None:
    reg = register_client(redirect_uris=[REDIRECT])
    client = await Client.from_issuer(live.settings.issuer, reg["client_id"], reg["client_secret"])
    try:
        user = make_user()
        url, flow = client.start_authorization(REDIRECT, scope="openid")
        _, other_flow = client.start_authorization(REDIRECT, scope="openid")
        callback = follow(browser, url, user)
        with pytest.raises(StateMismatch):
            await client.finish_authorization(callback, other_flow)
        url, flow = client.start_authorization(REDIRECT, scope="openid email", prompt="consent")
        with pytest.raises(AuthorizationError) as exc:
            await client.finish_authorization(follow(browser, url, user, allow=False), flow)
        assert exc.value.error == "access_denied"
    finally:
        await client.aclose()


async def test_discovery_requires_the_exact_issuer(live: LiveServer) -> None:
    with pytest.raises(DiscoveryError):
        await Client.from_issuer(live.settings.issuer + "/", "x")


async def test_refreshing_auth_refreshes_once_on_401(
    live: LiveServer, browser: Browser, register_client: Any, make_user: Any
) -> None:
    reg = register_client(
        redirect_uris=[REDIRECT], grant_types=["authorization_code", "refresh_token"]
    )
    client = await Client.from_issuer(live.settings.issuer, reg["client_id"], reg["client_secret"])
    store = MemoryTokenStore()
    try:
        url, flow = client.start_authorization(
            REDIRECT, scope="openid offline_access", prompt="consent"
        )
        tokens = await client.finish_authorization(follow(browser, url, make_user()), flow)
        await store.set("alice", tokens)

        async def api(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            info = await client.introspect(auth.removeprefix("Bearer "))
            return JSONResponse({"ok": True}) if info["active"] else Response(status_code=401)

        app = Starlette(routes=[Route("/me", api)])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://api",
            auth=RefreshingAuth(client, store, "alice"),
        ) as http:
            assert (await http.get("/me")).status_code == 200
            await client.revoke(tokens.access_token, "access_token")  # force a 401
            assert (await http.get("/me")).status_code == 200
        stored = await store.get("alice")
        assert stored is not None and stored.access_token != tokens.access_token
    finally:
        await client.aclose()


def test_sync_facade(live: LiveServer, register_client: Any) -> None:
    reg = register_client(grant_types=["client_credentials"], response_types=[], redirect_uris=[])
    client = SyncClient.from_issuer(live.settings.issuer, reg["client_id"], reg["client_secret"])
    try:
        tokens = client.client_credentials()
        assert client.introspect(tokens.access_token)["active"] is True
        client.revoke(tokens.access_token)
        assert client.introspect(tokens.access_token) == {"active": False}
    finally:
        client.close()
