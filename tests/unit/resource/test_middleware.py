"""The bearer middleware and scope checks as a Starlette app sees them. Spec: RFC 6750 §2-§3."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authgate.core.errors import InvalidToken, TemporarilyUnavailable
from authgate.resource import AccessToken, BearerTokenMiddleware, RequireScope, requires_scope


class FakeValidator:
    async def validate(self, token: str) -> AccessToken:
        if token == "down":
            raise TemporarilyUnavailable("authorization server unreachable")
        if not token.startswith("good"):
            raise InvalidToken("the access token is not active")
        scopes = frozenset({"good-read": {"notes:read"}}.get(token, {"other"}))
        return AccessToken("user-1", "c1", scopes, ("urn:x",), None)


@requires_scope("notes:read")
async def notes(request: Request) -> Response:
    return JSONResponse({"sub": request.state.access_token.subject})


async def public(request: Request) -> Response:
    return JSONResponse({"token": request.state.access_token is not None})


def client(required: bool = False) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/notes", notes), Route("/public", public)])
    wrapped = BearerTokenMiddleware(app, FakeValidator(), realm="notes", required=required)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t")


async def test_rfc6750_valid_token_with_scope() -> None:
    async with client() as c:
        r = await c.get("/notes", headers={"authorization": "Bearer good-read"})
    assert r.status_code == 200 and r.json() == {"sub": "user-1"}


async def test_rfc6750_3_1_insufficient_scope_names_the_scope() -> None:
    async with client() as c:
        r = await c.get("/notes", headers={"authorization": "Bearer good-other"})
    assert r.status_code == 403
    assert r.headers["www-authenticate"] == (
        'Bearer realm="notes", error="insufficient_scope", scope="notes:read"'
    )


async def test_rfc6750_3_1_invalid_token() -> None:
    async with client() as c:
        r = await c.get("/notes", headers={"authorization": "Bearer bad"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith('Bearer realm="notes", error="invalid_token"')
    assert r.json()["error"] == "invalid_token"
    assert r.headers["cache-control"] == "no-store"


async def test_rfc6750_3_no_token_gets_a_bare_challenge() -> None:
    async with client() as c:
        r = await c.get("/notes")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == 'Bearer realm="notes"'
        assert (await c.get("/public")).json() == {"token": False}
    async with client(required=True) as c:
        r = await c.get("/public")
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer realm="notes"'


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"params": {"access_token": "good-read"}}, 400, "invalid_request"),
        ({"headers": {"authorization": "Bearer a b"}}, 401, "invalid_token"),
        (
            {"headers": [("authorization", "Bearer good"), ("authorization", "Bearer good")]},
            400,
            "invalid_request",
        ),
    ],
)
async def test_rfc6750_malformed_requests(kwargs: dict[str, Any], status: int, error: str) -> None:
    async with client() as c:
        r = await c.get("/notes", **kwargs)
    assert r.status_code == status
    assert f'error="{error}"' in r.headers["www-authenticate"]


async def test_authorization_server_down_is_503() -> None:
    async with client() as c:
        r = await c.get("/notes", headers={"authorization": "Bearer down"})
    assert r.status_code == 503
    assert r.json()["error"] == "temporarily_unavailable"


async def test_require_scope_dependency() -> None:
    from starlette.exceptions import HTTPException

    class Req:
        class state:  # noqa: N801 - mimics request.state
            access_token = AccessToken("u", "c", frozenset({"a"}), (), None)

    dep = RequireScope("a")
    assert (await dep(Req())).subject == "u"  # type: ignore[arg-type]
    with pytest.raises(HTTPException) as exc:
        await RequireScope("b")(Req())  # type: ignore[arg-type]
    assert exc.value.status_code == 403
    assert exc.value.headers is not None
    assert 'scope="b"' in exc.value.headers["www-authenticate"]


async def test_websockets_need_a_valid_token_too() -> None:
    """A WebSocket handshake without a valid token is closed (1008) before the app sees it."""
    events: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        events.append("app")

    async def receive() -> dict[str, str]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        events.append(message)

    middleware = BearerTokenMiddleware(app, FakeValidator(), required=True)
    for headers in ([], [(b"authorization", b"Bearer bad")]):
        events.clear()
        await middleware(
            {"type": "websocket", "headers": headers, "query_string": b""}, receive, send
        )
        assert events == [{"type": "websocket.close", "code": 1008}]
    events.clear()
    await middleware(
        {
            "type": "websocket",
            "headers": [(b"authorization", b"Bearer good-read")],
            "query_string": b"",
        },
        receive,
        send,
    )
    assert events == ["app"]
