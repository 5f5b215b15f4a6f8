"""A real browser (Debian's chromium, driven by Playwright through its executable path) walks
the sign-in and consent pages: wrong password, sign-in, Deny, Allow, remembered consent, and
the anti-framing policy. Screenshots go to test-artifacts/.

Spec: OIDC Core §3.1.2.3-§3.1.2.6; RFC 9700 §4.16 (clickjacking).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.protocol.helpers import auth_params
from tests.support.live import LiveServer, free_port

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (scripts/browser installs it)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class _Callback(BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = b"<!doctype html><title>client</title>callback"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def callback() -> Iterator[tuple[str, list[str]]]:
    """A stand-in client on loopback that records the requests to its redirect URI."""
    seen: list[str] = []
    handler = type("Handler", (_Callback,), {"seen": seen})
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/cb", seen
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    yield context.new_page()
    context.close()


def start(page: Any, live: LiveServer, client: dict[str, Any], **extra: str) -> None:
    params, _ = auth_params(client, **extra)
    page.goto(f"{live.url}/authorize?{urlencode(params)}")


def callback_params(page: Any, url: str) -> dict[str, str]:
    page.wait_for_url(f"{url}?**")
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def test_sign_in_consent_and_deny_in_a_real_browser(
    live: LiveServer,
    page: Any,
    register_client: Any,
    make_user: Any,
    callback: tuple[str, list[str]],
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    url, _ = callback
    client = register_client(redirect_uris=[url], client_name="Notes")
    username, password = make_user()
    start(page, live, client)
    page.screenshot(path=str(ARTIFACTS / "login.png"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "The username or password is incorrect."
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").wait_for()
    assert "Notes" in page.content()
    assert "See your email address" in page.content()
    page.screenshot(path=str(ARTIFACTS / "consent.png"))
    page.get_by_role("button", name="Deny").click()
    denied = callback_params(page, url)
    assert denied["error"] == "access_denied"
    assert denied["iss"] == live.settings.issuer

    start(page, live, client)
    page.get_by_role("button", name="Allow").click()
    assert "code" in callback_params(page, url)

    # Remembered consent: straight back to the client with a code.
    start(page, live, client)
    assert "code" in callback_params(page, url)


def test_login_page_refuses_to_be_framed(
    live: LiveServer, page: Any, register_client: Any, callback: tuple[str, list[str]]
) -> None:
    url, _ = callback
    client = register_client(redirect_uris=[url])
    params, _ = auth_params(client)
    framed = f"{live.url}/authorize?{urlencode(params)}"
    evil = url.replace("/cb", "/evil")
    page.route(
        evil,
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=f'<iframe id="f" src="{framed}"></iframe>'
        ),
    )
    page.goto(evil)
    page.wait_for_timeout(500)
    frame = page.frames[-1]
    assert 'type="password"' not in frame.content()
