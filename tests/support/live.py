"""A real authgate server on loopback, in a background thread, for end-to-end tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import uvicorn

from authgate.bootstrap import build_context
from authgate.cli.serve import PROTOCOL
from authgate.config import Settings
from authgate.server.context import ServerContext
from authgate.web.app import create_app

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread
    ctx: ServerContext | None = None
    loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return self.settings.base_url

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's event loop (to seed users, inspect storage)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(settings: Settings) -> LiveServer:
    live: LiveServer

    async def build() -> ServerContext:
        ctx = await build_context(settings)
        live.ctx = ctx
        live.loop = asyncio.get_running_loop()
        return ctx

    app = create_app(settings, build=build)
    # The protocol options of `authgate serve` (uvloop, httptools with one write per response,
    # no server header, no proxy headers): wire-level tests run what runs in production.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=settings.listen_port,
        log_level="warning",
        lifespan="on",
        **PROTOCOL,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    live = LiveServer(settings, server, thread)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{settings.base_url}/health/live", timeout=1).status_code == 200:
                return live
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("test server did not start")
