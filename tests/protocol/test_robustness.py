"""Failure modes: no stack trace ever reaches a user, the database going away gives 503, and
health endpoints report it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from authgate.storage.base import StorageUnavailable
from tests.protocol.documented import assert_described
from tests.protocol.helpers import auth_params
from tests.support.live import LiveServer


class BrokenStorage:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        raise self.exc
        yield  # pragma: no cover

    async def ping(self) -> None:
        raise self.exc

    async def close(self) -> None:
        return None


def with_storage(live: LiveServer, storage: Any) -> Any:
    assert live.ctx is not None
    real = live.ctx.storage
    live.ctx.storage = storage
    return real


def test_health_live_and_ready(api: httpx.Client) -> None:
    assert api.get("/health/live").json() == {"status": "ok"}
    assert api.get("/health/ready").json() == {"status": "ready"}


def test_database_outage_gives_503_and_not_ready(
    live: LiveServer, api: httpx.Client, register_client: Any
) -> None:
    client = register_client()
    real = with_storage(live, BrokenStorage(StorageUnavailable("down")))
    try:
        r = api.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert r.status_code == 503
        assert r.json()["error"] == "temporarily_unavailable"
        assert_described(
            r.json(), "temporarily_unavailable", "the service is temporarily unavailable"
        )
        page = api.get("/authorize?" + httpx.QueryParams(auth_params(client)[0]).__str__())
        assert page.status_code == 503
        assert "temporarily unavailable" in page.text
        assert api.get("/health/ready").status_code == 503
        assert api.get("/health/live").status_code == 200
    finally:
        with_storage(live, real)
    assert api.get("/health/ready").status_code == 200


def test_unexpected_errors_reveal_nothing(
    live: LiveServer, api: httpx.Client, register_client: Any
) -> None:
    client = register_client()
    real = with_storage(live, BrokenStorage(RuntimeError("secret internal detail")))
    try:
        r = api.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert r.status_code == 500
        assert r.json() == {"error": "server_error", "error_description": "unexpected error"}
        page = api.get("/authorize?client_id=" + client["client_id"])
        assert page.status_code == 500
        assert "secret internal detail" not in page.text
        assert "Traceback" not in page.text
    finally:
        with_storage(live, real)
