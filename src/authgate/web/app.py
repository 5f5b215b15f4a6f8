"""The ASGI application: the route table (``web.routes``) served by the front door
(``web.dispatch``), with the security headers around it and the context built at startup.

Malformed input of any kind ends as a 4xx; an unexpected exception is logged with its trace and
answered with a 500 that reveals nothing; an unreachable database gives 503.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

from authgate.config import Settings
from authgate.server.context import ServerContext
from authgate.server.keys import run_key_maintenance
from authgate.server.maintenance import run_purger
from authgate.web.dispatch import Dispatcher, Lifespan
from authgate.web.render import Renderer
from authgate.web.routes import ROUTES, Route
from authgate.web.security import SecurityHeaders

__all__ = ["create_app", "front_door"]


def create_app(
    settings: Settings,
    build: Callable[[], Awaitable[ServerContext]],
    extra_routes: Sequence[Route] | None = None,
) -> SecurityHeaders:
    """Build the ASGI app. ``build`` makes the ServerContext at startup (``bootstrap`` passes
    ``build_context``); ``extra_routes`` are entries served beside ``ROUTES`` (the demo's
    callback page)."""
    door = front_door(settings, build, (*ROUTES, *(extra_routes or ())))
    return SecurityHeaders(door, hsts=settings.is_https)


def front_door(
    settings: Settings, build: Callable[[], Awaitable[ServerContext]], routes: Iterable[Route]
) -> Dispatcher:
    """The dispatcher of ``routes`` under the settings' path prefix, cookie policy and
    background tasks."""
    prefix = settings.path_prefix
    renderer = Renderer(
        secure_cookies=settings.is_https,
        cookie_path=prefix or "/",
        static_path=f"{prefix}/static",
    )
    return Dispatcher(
        routes,
        prefix=prefix,
        renderer=renderer,
        trust_forwarded_for=settings.trust_forwarded_for,
        lifespan=_lifespan(settings, build),
    )


def _lifespan(settings: Settings, build: Callable[[], Awaitable[ServerContext]]) -> Lifespan:
    """Build the context, run the key maintenance, the storage's housekeeping and (when
    configured) the purger beside the requests; stop them and close the storage at the end."""

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[ServerContext]:
        ctx = await build()
        tasks = [
            asyncio.create_task(run_key_maintenance(ctx, ctx.key_encryptor)),
            asyncio.create_task(ctx.storage.housekeeping()),
        ]
        if settings.purge_interval:
            tasks.append(asyncio.create_task(run_purger(ctx, settings.purge_interval)))
        try:
            yield ctx
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await ctx.storage.close()

    return lifespan
