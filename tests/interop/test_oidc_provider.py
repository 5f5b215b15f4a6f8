"""authgate.client against another provider: panva's node-oidc-provider (OpenID Certified),
started on loopback by this test. The client must work with any compliant provider.

Needs Node.js and npm; the provider is installed with npm (scripts/interop). Skipped locally
without them; a failure under CI=true.
Spec: OIDC Core §3.1; RFC 6749 §4.1, §6; RFC 7636; RFC 7009; RFC 7662.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from authgate.client import Client
from tests.support.live import free_port

pytestmark = pytest.mark.slow
PROVIDER = Path(__file__).parent / "provider"
REDIRECT = "http://127.0.0.1:9999/cb"


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[str, str]]:
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js is not installed")
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        _unavailable("oidc-provider is not installed: run scripts/interop")
    port = free_port()
    secret = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENT_SECRET": secret,
        "REDIRECT_URI": REDIRECT,
        "COOKIE_KEY": secrets.token_urlsafe(24),
        "NODE_ENV": "development",
    }
    proc = subprocess.Popen(
        [str(node), "provider.mjs"],
        cwd=PROVIDER,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("oidc-provider did not start")
        yield issuer, secret
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and "name" in a:
            kind = a.get("type", "text")
            self.fields[a["name"]] = (
                "alice"
                if kind in ("text", "email")
                else "any-password"
                if kind == "password"
                else a.get("value", "")
            )


def _play_user(http: httpx.Client, url: str) -> str:
    """Follow the provider's pages (its development login and consent) to the callback."""
    response = http.get(url)
    for _ in range(12):
        if response.status_code in (302, 303):
            location = response.headers["location"]
            if location.startswith(REDIRECT):
                return str(location)
            response = http.get(urljoin(str(response.url), location))
            continue
        assert response.status_code == 200, response.text[:300]
        form = _Form()
        form.feed(response.text)
        assert form.action is not None, response.text[:300]
        response = http.post(urljoin(str(response.url), form.action), data=form.fields)
    raise AssertionError("no redirect to the client")


async def test_authgate_client_with_node_oidc_provider(provider: tuple[str, str]) -> None:
    issuer, secret = provider
    client = await Client.from_issuer(issuer, "interop-client", secret)
    try:
        url, flow = client.start_authorization(
            REDIRECT, scope="openid profile email offline_access", prompt="consent"
        )
        with httpx.Client(follow_redirects=False, timeout=10) as browser:
            callback = _play_user(browser, url)
        tokens = await client.finish_authorization(callback, flow)
        assert tokens.claims["sub"] == "alice"
        assert tokens.claims["aud"] == "interop-client"
        assert tokens.refresh_token
        info: dict[str, Any] = await client.userinfo(tokens.access_token)
        assert info["sub"] == "alice" and info["email"] == "alice@example.com"
        fresh = await client.refresh(tokens)
        assert fresh.refresh_token != tokens.refresh_token
        assert fresh.claims.get("sub", "alice") == "alice"
        assert (await client.introspect(fresh.access_token))["active"] is True
        await client.revoke(fresh.refresh_token or "", "refresh_token")
        with pytest.raises(Exception, match="invalid_grant"):
            await client.refresh(fresh)
    finally:
        await client.aclose()
