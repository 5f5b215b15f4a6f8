"""Robustness of the client library: shared refresh lock, kept tokens after a failed
validation, non-ASCII input, and the Starlette integration's sessions and logout.

Spec: RFC 9700 §4.14.2 (use each refresh token once); OIDC Core §12.2; RFC 6749 §10.12;
OWASP session management.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from authgate.client import IdTokenError, MemoryTokenStore, RefreshingAuth, StateMismatch, TokenSet
from authgate.client import starlette as rp
from authgate.client.protocol import authorization_url, check_callback


class FakeClient:
    def __init__(self, fail: Exception | None = None) -> None:
        self.refreshes = 0
        self.fail = fail

    async def refresh(self, tokens: TokenSet) -> TokenSet:
        self.refreshes += 1
        await asyncio.sleep(0.01)
        if self.fail is not None:
            raise self.fail
        return TokenSet(f"at-{self.refreshes}", "Bearer", None, None, f"rt-{self.refreshes}")


def api(request: httpx.Request) -> httpx.Response:
    ok = request.headers["authorization"] != "Bearer at-0"
    return httpx.Response(200 if ok else 401)


async def test_parallel_requests_with_separate_auth_objects_refresh_once() -> None:
    store, client = MemoryTokenStore(), FakeClient()
    await store.set("s", TokenSet("at-0", "Bearer", None, None, "rt-0"))

    async def call() -> int:
        auth = RefreshingAuth(client, store, "s")  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.MockTransport(api), auth=auth) as http:
            return (await http.get("http://api/x")).status_code

    assert await asyncio.gather(*(call() for _ in range(10))) == [200] * 10
    assert client.refreshes == 1


async def test_rotated_refresh_token_is_kept_when_validation_fails() -> None:
    store = MemoryTokenStore()
    await store.set("s", TokenSet("at-0", "Bearer", None, None, "rt-0", claims={"sub": "u"}))
    rotated = TokenSet("at-new", "Bearer", None, None, "rt-new")
    client = FakeClient(IdTokenError("jwks unreachable", token_set=rotated))
    auth = RefreshingAuth(client, store, "s")  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.MockTransport(api), auth=auth) as http:
        with pytest.raises(IdTokenError):
            await http.get("http://api/x")
    kept = await store.get("s")
    assert kept is not None and kept.refresh_token == "rt-new" and kept.claims == {"sub": "u"}


def test_non_ascii_state_is_a_mismatch_not_a_crash() -> None:
    _, flow = authorization_url("https://op/authorize", "c", "https://rp/cb", "openid")
    with pytest.raises(StateMismatch):
        check_callback("https://rp/cb?code=x&state=%C3%A9t%C3%A9", flow, "https://op", False)


class StubClient:
    def start_authorization(self, redirect_uri: str, scope: str, **extra: str) -> Any:
        return authorization_url("https://op/authorize", "c", redirect_uri, scope, **extra)

    async def revoke(self, token: str, hint: str | None = None) -> None:
        return None


def rp_app(auth: rp.OidcAuth) -> httpx.AsyncClient:
    app = Starlette(routes=auth.routes())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://app")


async def test_logout_without_csrf_changes_nothing_and_cookies_are_checked_safely() -> None:
    auth = rp.OidcAuth(StubClient(), secret_key="k", redirect_uri="https://app/cb")  # type: ignore[arg-type]
    async with rp_app(auth) as http:
        r = await http.get("/login")
        assert r.status_code == 303
        cookie = r.cookies["rp_session"]
        http.cookies.clear()
        bad = await http.post(
            "/logout", data={"csrf": "wrong"}, headers={"cookie": f"rp_session={cookie}"}
        )
        assert bad.status_code == 403 and "set-cookie" not in bad.headers
        weird = await http.post(
            "/logout", data={"csrf": "x"}, headers={"cookie": "rp_session=a.%C3%A9"}
        )
        assert weird.status_code == 403


async def test_login_reuses_the_session_and_pending_sessions_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rp, "MAX_SESSIONS", 50)
    auth = rp.OidcAuth(StubClient(), secret_key="k", redirect_uri="https://app/cb")  # type: ignore[arg-type]
    async with rp_app(auth) as http:
        first = await http.get("/login")
        cookie = first.cookies["rp_session"]
        http.cookies.clear()
        again = await http.get("/login", headers={"cookie": f"rp_session={cookie}"})
        assert "set-cookie" in again.headers  # same session, flow replaced
        assert len(auth._sessions) == 1
        for _ in range(200):  # anonymous /login flood
            http.cookies.clear()
            await http.get("/login")
    assert len(auth._sessions) <= 50
