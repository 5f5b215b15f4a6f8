"""The whole application in process (httpx.ASGITransport, no uvicorn): its lifespan builds the
context from the settings, the endpoints answer, shutdown closes the storage; a failed
startup is reported to the server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.bootstrap import create_server_app
from authgate.config import Settings
from authgate.web.app import create_app
from tests.web.conftest import running


async def test_the_app_serves_its_table_between_startup_and_shutdown(tmp_path: Path) -> None:
    settings = Settings(
        issuer="http://127.0.0.1:9299",
        database_url=f"sqlite:///{tmp_path}/a.db",
        argon2_memory_kib=8192,
        argon2_time_cost=1,
    )
    app = create_server_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/health/ready")).json() == {"status": "ready"}
        meta = (await c.get("/.well-known/openid-configuration")).json()
        assert meta["token_endpoint"] == "http://127.0.0.1:9299/token"
        assert (await c.get("/jwks")).json()["keys"]
        r = await c.post("/token", data={"grant_type": "client_credentials"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/health/ready")).status_code == 503  # after shutdown


async def test_a_failed_startup_is_reported(tmp_path: Path) -> None:
    settings = Settings(issuer="http://127.0.0.1:9299", database_url=f"sqlite:///{tmp_path}/a.db")

    async def build() -> Any:
        raise RuntimeError("no database")

    app = create_app(settings, build)
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await to_app.put({"type": "lifespan.startup"})
    with pytest.raises(RuntimeError, match="no database"):
        await app({"type": "lifespan"}, to_app.get, from_app.put)
    message = await from_app.get()
    assert message["type"] == "lifespan.startup.failed"
    assert "no database" in message["message"]
