"""PostgreSQL goes away and comes back: 503s within a bounded time (JSON for APIs, a page for
browsers), /health/ready not ready while /health/live stays up, nothing half-written, and
service resumes by itself.

Spec: RFC 6749 §4.1.2.1 / §5.2 (temporarily_unavailable); operations (readiness).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url

from tests.conftest import REGISTRATION_TOKEN, make_settings
from tests.support.live import LiveServer, start_server
from tests.support.postgres import create_database, drop_database
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def proxied(pg_admin_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, TcpProxy]]:
    url = asyncio.run(create_database(pg_admin_url))
    parsed = make_url(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    through = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = start_server(make_settings(tmp_path, database_url=through))
    try:
        yield server, proxy
    finally:
        proxy.restore()
        server.stop()
        proxy.close()
        asyncio.run(drop_database(pg_admin_url, url))


def _until(check: Any, seconds: float) -> float:
    """Poll ``check`` until it is true; return how long it took (fail after ``seconds``)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not reached within {seconds} s")


def test_outage_and_recovery(proxied: tuple[LiveServer, TcpProxy]) -> None:
    server, proxy = proxied
    api = httpx.Client(base_url=server.url, timeout=30)
    try:
        client = api.post(
            "/register",
            json={"redirect_uris": ["https://a.example/cb"]},
            headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"},
        ).json()
        assert api.get("/health/ready").status_code == 200

        proxy.cut()
        _until(lambda: api.get("/health/ready").status_code == 503, 20)
        assert api.get("/health/live").status_code == 200
        started = time.monotonic()
        r = api.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert time.monotonic() - started < 20
        assert r.status_code == 503
        assert r.json()["error"] == "temporarily_unavailable"
        page = api.get("/authorize", params={"client_id": client["client_id"]})
        assert page.status_code == 503
        assert "text/html" in page.headers["content-type"]
        failed = api.post(
            "/register",
            json={"redirect_uris": ["https://b.example/cb"]},
            headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"},
        )
        assert failed.status_code == 503

        proxy.restore()
        _until(lambda: api.get("/health/ready").status_code == 200, 30)
        again = api.post(
            "/register",
            json={"redirect_uris": ["https://c.example/cb"]},
            headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"},
        )
        assert again.status_code == 201
    finally:
        api.close()
