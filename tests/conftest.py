"""Shared fixtures: a live server on loopback, clients registered through RFC 7591, users."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.cli.users import create_user
from authgate.config import Settings
from tests.support.flow import Browser
from tests.support.live import LiveServer, free_port, start_server
from tests.support.postgres import create_database, drop_database, find_admin_url

REGISTRATION_TOKEN = "test-initial-access-token-" + secrets.token_urlsafe(8)


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    port = free_port()
    values: dict[str, Any] = {
        "issuer": f"http://127.0.0.1:{port}",
        "database_url": f"sqlite:///{tmp / 'authgate.db'}",
        "registration_token": REGISTRATION_TOKEN,
        "argon2_memory_kib": 8192,
        "argon2_time_cost": 1,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """A reachable PostgreSQL maintenance database (skipped locally, failed in CI, if none)."""
    return find_admin_url()


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real server on loopback; every test using it runs once on SQLite and once on
    PostgreSQL (a fresh database, dropped afterwards)."""
    tmp = tmp_path_factory.mktemp("live")
    if request.param == "sqlite":
        server = start_server(make_settings(tmp))
        yield server
        server.stop()
        return
    admin: str = request.getfixturevalue("pg_admin_url")
    url = asyncio.run(create_database(admin))
    try:
        server = start_server(make_settings(tmp, database_url=url))
        yield server
        server.stop()
    finally:
        asyncio.run(drop_database(admin, url))


@pytest.fixture
def api(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=20) as client:
        yield client


@pytest.fixture
def browser(live: LiveServer) -> Iterator[Browser]:
    b = Browser(live.url)
    yield b
    b.close()


RegisterClient = Callable[..., dict[str, Any]]


@pytest.fixture
def register_client(api: httpx.Client) -> RegisterClient:
    """Register a client through RFC 7591 and return the registration response."""

    def register(**metadata: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "redirect_uris": ["http://127.0.0.1:9999/cb"],
            "client_name": "Test App",
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        body.update(metadata)
        r = api.post(
            "/register", json=body, headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    return register


@pytest.fixture
def make_user(live: LiveServer) -> Callable[..., tuple[str, str]]:
    """Create a user with a random name; returns (username, password)."""

    def make(**claims: Any) -> tuple[str, str]:
        username = "user-" + secrets.token_hex(4)
        password = secrets.token_urlsafe(12)
        assert live.ctx is not None
        claims.setdefault("email", f"{username}@example.com")
        claims.setdefault("name", "Test User")
        live.call(create_user(live.ctx, username, password, **claims))
        return username, password

    return make
