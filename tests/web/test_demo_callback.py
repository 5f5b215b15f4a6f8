"""The demo's callback page is an entry of the route table like any page."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx

from authgate.cli.demo import DemoSetup, _callback_route
from authgate.config import Settings
from authgate.web.app import front_door
from authgate.web.security import PAGE_CSP
from tests.web.test_routes import no_context


async def test_the_callback_shows_the_code_and_the_curl_that_redeems_it(tmp_path: Path) -> None:
    settings = Settings(issuer="http://127.0.0.1:9299", database_url=f"sqlite:///{tmp_path}/a.db")
    setup = DemoSetup("pw", "secret", "verifier", "the-state", "nonce")
    door = front_door(settings, no_context, [_callback_route(settings, setup)])
    door.ctx = SimpleNamespace()
    transport = httpx.ASGITransport(app=door)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/demo/callback?code=c0de<&state=the-state&iss=x")
        failed = await client.get("/demo/callback?error=access_denied&error_description=no")
        bare = await client.get("/demo/callback?error=access_denied")
    assert ok.status_code == 200 and ok.headers["content-security-policy"] == PAGE_CSP
    assert "state matches: <strong>yes</strong>" in ok.text
    assert "code=c0de&lt;" in ok.text and "code_verifier=verifier" in ok.text
    assert "<h1>Authorization failed</h1>" in failed.text and "access_denied" in failed.text
    assert "access_denied" in bare.text and "None" not in bare.text  # no description: none shown
