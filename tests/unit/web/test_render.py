"""Cookie policy of the renderer. Spec: RFC 6265bis §4.1.3.2 (__Host- prefix); RFC 9700 §4.7."""

from __future__ import annotations

import logging

import pytest

from authgate.core.authorization import RedirectTarget
from authgate.core.errors import InvalidScope
from authgate.core.models import ResponseMode
from authgate.server.http import AuthorizationResponse, Cookie, RedirectResponse, error_page
from authgate.web.render import Renderer


def test_https_cookies_use_the_host_prefix_and_root_path() -> None:
    renderer = Renderer(secure_cookies=True, cookie_path="/auth", static_path="/auth/static")
    response = renderer.render(RedirectResponse("/x", cookies=(Cookie("ag_sid", "v", 60),)))
    header = response.headers["set-cookie"]
    assert header.startswith("__Host-ag_sid=v;")
    assert "Path=/;" in header and "Secure" in header and "HttpOnly" in header
    assert "Domain" not in header and "SameSite=lax" in header


def test_http_loopback_cookies_are_plain() -> None:
    renderer = Renderer(secure_cookies=False, cookie_path="/", static_path="/static")
    response = renderer.render(RedirectResponse("/x", cookies=(Cookie("ag_bid", "v"),)))
    header = response.headers["set-cookie"]
    assert header.startswith("ag_bid=v;") and "Secure" not in header
    assert response.headers["cache-control"] == "no-store"


def test_cookies_are_written_as_starlette_wrote_them() -> None:
    from starlette.responses import Response

    for secure, path in ((True, "/"), (False, "/auth")):
        renderer = Renderer(secure_cookies=secure, cookie_path=path, static_path="/static")
        for cookie in (Cookie("ag_sid", "v1", 60), Cookie("ag_bid", "v2"), Cookie("x", "", 0)):
            ours = renderer.render(RedirectResponse("/x", cookies=(cookie,)))
            theirs = Response()
            theirs.set_cookie(
                renderer.cookie_name(cookie.name),
                cookie.value,
                max_age=cookie.max_age,
                path="/" if secure else path,
                secure=secure,
                httponly=True,
                samesite="lax",
            )
            assert ours.headers["set-cookie"] == theirs.headers["set-cookie"]


def test_the_debug_of_an_error_sent_to_the_client_or_shown_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renderer = Renderer(secure_cookies=False, cookie_path="/", static_path="/static")
    error = InvalidScope("no such scope", debug="asked for admin")
    target = RedirectTarget("https://rp.example/cb", "s", ResponseMode.QUERY)
    with caplog.at_level(logging.INFO, "authgate.web"):
        redirect = renderer.render(
            AuthorizationResponse(target, {"error": error.error, "state": "s"}, error=error)
        )
        page = renderer.render(error_page("Invalid request", "The request failed.", 400, error))
    assert redirect.status == 303
    assert redirect.headers["location"] == "https://rp.example/cb?error=invalid_scope&state=s"
    assert page.status == 400 and b"asked for admin" not in page.body
    assert [r.getMessage() for r in caplog.records] == ["invalid_scope: asked for admin"] * 2
