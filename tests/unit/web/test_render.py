"""Cookie policy of the renderer. Spec: RFC 6265bis §4.1.3.2 (__Host- prefix); RFC 9700 §4.7."""

from __future__ import annotations

from authgate.server.http import Cookie, RedirectResponse
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
