"""Every route of the table gives the same answers to what can go wrong around a use case:
405 with the path's methods, 413 for a body over MAX_BODY, the channel's ``invalid_request``
for a body that is not a form where one is required, 503 while the database is unavailable
(or before startup), and a 500 that reveals nothing (its trace logged). Table-driven: a route
added to ``ROUTES`` is checked here without a line more, and a new kind of endpoint fails until
its answers are written down in ``CHANNEL``.

Spec: RFC 9110 §15.5.6 (405 and Allow), §15.5.14 (413); RFC 6749 §3.2, §5.2.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from authgate.config import Settings
from authgate.core.errors import InvalidRequest
from authgate.server.http import HttpRequest, JsonResponse, PageResponse
from authgate.storage.base import StorageUnavailable
from authgate.web.app import create_app, front_door
from authgate.web.request import MAX_BODY
from authgate.web.routes import ROUTES, Endpoint, Files, Health, Json, Page, Prebuilt, Route
from authgate.web.security import PAGE_CSP, SecurityHeaders

SECRET = "secret internal detail"
FORM = {"content-type": "application/x-www-form-urlencoded"}
PATHS = sorted({route.path for route in ROUTES})
POST_ROUTES = [r for r in ROUTES if "POST" in r.methods]


def concrete(path: str) -> str:
    """A path the template matches: the stylesheet for ``{path:path}``, ``abc`` otherwise."""
    return re.sub(r"\{\w+\}", "abc", path.replace("{path:path}", "authgate.css"))


def name(route: Route) -> str:
    return f"{'+'.join(route.methods)} {route.path}"


def methods_of(path: str) -> list[str]:
    return sorted({m for r in ROUTES if r.path == path for m in r.methods})


def check_json_error(r: httpx.Response, status: int, error: str, description: str) -> None:
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    assert r.json() == {"error": error, "error_description": description}


def check_page(r: httpx.Response, status: int, title: str) -> None:
    assert r.status_code == status
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-security-policy"] == PAGE_CSP
    assert f"<h1>{title}</h1>" in r.text


def check_text(r: httpx.Response, status: int, body: bytes) -> None:
    assert r.status_code == status
    assert r.content == body


def json_500(r: httpx.Response) -> None:
    check_json_error(r, 500, "server_error", "unexpected error")


def json_503(r: httpx.Response) -> None:
    unavailable = "the service is temporarily unavailable"
    check_json_error(r, 503, "temporarily_unavailable", unavailable)


def health_503(r: httpx.Response) -> None:
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}


@dataclasses.dataclass(frozen=True)
class Answers:
    """What a channel answers; None where the situation cannot arise on it."""

    unexpected: Callable[[httpx.Response], None]
    unavailable: Callable[[httpx.Response], None] | None
    too_large: Callable[[httpx.Response], None] | None = None
    not_a_form: Callable[[httpx.Response], None] | None = None


CHANNEL: dict[type, Answers] = {
    Json: Answers(
        unexpected=json_500,
        unavailable=json_503,
        too_large=lambda r: check_text(r, 413, b"request body too large"),
        not_a_form=lambda r: check_json_error(
            r,
            400,
            "invalid_request",
            "the request body must be application/x-www-form-urlencoded",
        ),
    ),
    Page: Answers(
        unexpected=lambda r: check_page(r, 500, "Something went wrong"),
        unavailable=lambda r: check_page(r, 503, "Temporarily unavailable"),
        too_large=lambda r: check_page(r, 413, "Request too large"),
        not_a_form=lambda r: check_page(r, 400, "Invalid form"),
    ),
    Prebuilt: Answers(unexpected=json_500, unavailable=json_503),
    Health: Answers(
        unexpected=lambda r: check_text(r, 500, b"Internal Server Error"),
        unavailable=health_503,
    ),
    # Static files need no database.
    Files: Answers(
        unexpected=lambda r: check_text(r, 500, b"Internal Server Error"), unavailable=None
    ),
}


def answers(endpoint: Endpoint) -> Answers:
    kind = type(endpoint)
    assert kind in CHANNEL, f"{kind.__name__}: write down this channel's answers in CHANNEL"
    return CHANNEL[kind]


def failing(endpoint: Endpoint, exc: Exception) -> Endpoint | None:
    """The same endpoint with its work replaced by raising ``exc``; None: it does no work."""

    async def use_case(ctx: Any, request: HttpRequest) -> Any:
        raise exc

    def body(ctx: Any) -> bytes:
        raise exc

    async def probe(ctx: Any) -> None:
        raise exc

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise exc

    if isinstance(endpoint, Json | Page):
        return dataclasses.replace(endpoint, use_case=use_case)
    if isinstance(endpoint, Prebuilt):
        return dataclasses.replace(endpoint, body=body)
    if isinstance(endpoint, Health):
        return None if endpoint.probe is None else dataclasses.replace(endpoint, probe=probe)
    if isinstance(endpoint, Files):
        return dataclasses.replace(endpoint, app=app)
    raise AssertionError(f"{type(endpoint).__name__}: teach failing() to make it fail")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(issuer="http://127.0.0.1:9299", database_url=f"sqlite:///{tmp_path}/a.db")


async def no_context() -> Any:
    raise AssertionError("these tests set the context themselves")


def started(settings: Settings, routes: Any = ROUTES, ctx: Any = None) -> httpx.AsyncClient:
    """A client of the app over ``routes`` with ``ctx`` as its context (no lifespan run)."""
    door = front_door(settings, no_context, routes)
    door.ctx = ctx if ctx is not None else SimpleNamespace()
    app = SecurityHeaders(door, hsts=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def request_of(route: Route) -> tuple[str, str, dict[str, Any]]:
    method = route.methods[0]
    body = {"content": b"a=1", "headers": FORM} if method == "POST" else {}
    return method, concrete(route.path), body


def test_the_table_declares_every_endpoint_once() -> None:
    declared = [(m, r.path) for r in ROUTES for m in r.methods]
    assert len(declared) == len(set(declared))
    for path in ("/token", "/introspect", "/revoke", "/userinfo", "/register", "/jwks"):
        assert path in PATHS
    assert {r.path for r in ROUTES if r.form} == {
        "/token",
        "/introspect",
        "/revoke",
        "/authorize",
        "/login/{interaction_id}",
        "/consent/{interaction_id}",
    }


def test_a_route_declared_twice_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        front_door(settings, no_context, (ROUTES[0], ROUTES[0]))


@pytest.mark.parametrize("path", PATHS)
async def test_other_methods_are_405_with_the_methods_of_the_path(
    settings: Settings, path: str
) -> None:
    allowed = methods_of(path)
    async with started(settings) as client:
        for method in {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"} - set(allowed):
            r = await client.request(method, concrete(path))
            assert r.status_code == 405, method
            assert r.headers["allow"] == ", ".join(allowed)
            assert r.headers["content-type"] == "text/plain"
            assert r.headers["x-frame-options"] == "DENY"
            if method != "HEAD":
                assert r.content == b"method not allowed"


@pytest.mark.parametrize("route", POST_ROUTES, ids=name)
async def test_a_body_over_max_body_is_413(settings: Settings, route: Route) -> None:
    expect = answers(route.endpoint).too_large
    assert expect is not None, "a POST route needs an answer to a body too large"
    big = b"a=" + b"x" * MAX_BODY

    async def streamed() -> Any:  # no Content-Length: counted while it arrives
        for _ in range(3):
            yield b"x" * (MAX_BODY // 2)

    async with started(settings) as client:
        expect(await client.post(concrete(route.path), content=big, headers=FORM))
        expect(await client.post(concrete(route.path), content=streamed(), headers=FORM))


@pytest.mark.parametrize("route", [r for r in ROUTES if r.form], ids=name)
async def test_a_body_that_is_not_a_form_is_refused_before_the_use_case(
    settings: Settings, route: Route
) -> None:
    expect = answers(route.endpoint).not_a_form
    assert expect is not None
    never = failing(route.endpoint, AssertionError("the use case ran"))
    routes = [dataclasses.replace(route, endpoint=never)]
    async with started(settings, routes) as client:
        for headers in ({"content-type": "application/json"}, {}):
            expect(await client.post(concrete(route.path), content=b'{"a": 1}', headers=headers))


@pytest.mark.parametrize("route", ROUTES, ids=name)
async def test_an_unexpected_exception_is_a_500_that_reveals_nothing(
    settings: Settings, route: Route, caplog: pytest.LogCaptureFixture
) -> None:
    broken = failing(route.endpoint, RuntimeError(SECRET))
    if broken is None:
        pytest.skip("does no work that could fail")
    method, path, body = request_of(route)
    async with started(settings, [dataclasses.replace(route, endpoint=broken)]) as client:
        with caplog.at_level(logging.ERROR, "authgate.web"):
            r = await client.request(method, path, **body)
    answers(route.endpoint).unexpected(r)
    assert SECRET not in r.text and "Traceback" not in r.text
    logged = [rec for rec in caplog.records if rec.exc_info]
    assert logged and SECRET in str(logged[0].exc_info[1])


@pytest.mark.parametrize("route", ROUTES, ids=name)
async def test_the_database_unavailable_is_503(settings: Settings, route: Route) -> None:
    expect = answers(route.endpoint).unavailable
    broken = failing(route.endpoint, StorageUnavailable("down"))
    if expect is None or broken is None:
        pytest.skip("does not use the database")
    method, path, body = request_of(route)
    async with started(settings, [dataclasses.replace(route, endpoint=broken)]) as client:
        expect(await client.request(method, path, **body))


@pytest.mark.parametrize("route", ROUTES, ids=name)
async def test_before_startup_the_routes_that_need_the_context_are_503(
    settings: Settings, route: Route
) -> None:
    app = create_app(settings, no_context)
    method, path, body = request_of(route)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.request(method, path, **body)
    expect = answers(route.endpoint).unavailable
    if expect is None or (isinstance(route.endpoint, Health) and route.endpoint.probe is None):
        assert r.status_code == 200
    else:
        expect(r)


async def test_an_unknown_path_is_404(settings: Settings) -> None:
    async with started(settings) as client:
        for path in ("/nothing", "/login/", "/login/a/b", "/token/", "/static/nope.css"):
            r = await client.get(path)
            assert r.status_code == 404, path
            assert r.content == b"Not Found"
            assert r.headers["content-type"] == "text/plain; charset=utf-8"


async def test_the_path_prefix_is_applied_to_every_route(tmp_path: Path) -> None:
    settings = Settings(
        issuer="http://127.0.0.1:9299/auth", database_url=f"sqlite:///{tmp_path}/a.db"
    )
    async with started(settings) as client:
        for path in PATHS:
            assert (await client.request("PUT", "/auth" + concrete(path))).status_code == 405
            assert (await client.request("PUT", concrete(path))).status_code == 404
        css = await client.get("/auth/static/authgate.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("prefix", ["/a.b", "/a(b", "/a+b"])
async def test_the_prefix_is_literal_even_with_regex_characters(
    tmp_path: Path, prefix: str
) -> None:
    """An issuer path is text, not a pattern: ``/a.b`` never answers at ``/aXb``, and ``/a(b``
    starts (a review found both broken in the first version of the dispatcher)."""
    settings = Settings(
        issuer=f"http://127.0.0.1:9299{prefix}", database_url=f"sqlite:///{tmp_path}/a.db"
    )
    async with started(settings) as client:
        for path in PATHS:
            assert (await client.request("PUT", prefix + concrete(path))).status_code == 405
            aliased = "/aXb" + concrete(path)
            assert (await client.request("PUT", aliased)).status_code == 404, aliased
        assert (await client.get(prefix + "/static/authgate.css")).status_code == 200


async def test_path_parameters_reach_the_use_case(settings: Settings) -> None:
    seen: list[str] = []

    async def use_case(ctx: Any, request: HttpRequest) -> PageResponse:
        seen.append(request.path_params["interaction_id"])
        return PageResponse("error.html", {"title": "t", "message": "m"})

    routes = [Route(("GET",), "/login/{interaction_id}", Page(use_case))]
    async with started(settings, routes) as client:
        assert (await client.get("/login/i-123")).status_code == 200
    assert seen == ["i-123"]


async def test_oauth_error_debug_is_logged_on_the_json_and_page_channels(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def raises(ctx: Any, request: HttpRequest) -> JsonResponse:
        raise InvalidRequest("bad", debug="the detail for the log")

    routes = [Route(("GET",), "/j", Json(raises)), Route(("GET",), "/p", Page(raises))]
    async with started(settings, routes) as client:
        with caplog.at_level(logging.INFO, "authgate.web"):
            assert (await client.get("/j")).json() == {
                "error": "invalid_request",
                "error_description": "bad",
            }
            page = await client.get("/p")
    check_page(page, 400, "Invalid request")
    assert "the detail for the log" not in page.text
    assert [r.getMessage() for r in caplog.records] == [
        "invalid_request: the detail for the log"
    ] * 2
