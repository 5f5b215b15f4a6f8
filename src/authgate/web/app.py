"""The ASGI application: routes to use cases, request conversion, error rendering.

Malformed input of any kind ends as a 4xx; an unexpected exception is logged with its trace and
answered with a plain 500 that reveals nothing; an unreachable database gives 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from authgate.config import Settings
from authgate.core.errors import (
    OAuthError,
)
from authgate.server.authorize import authorize
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, error_page
from authgate.server.http import Response as ProtocolResponse
from authgate.server.interaction import consent_page, consent_submit, login_page, login_submit
from authgate.server.introspect import introspect
from authgate.server.keys import run_key_maintenance
from authgate.server.maintenance import run_purger
from authgate.server.register import register
from authgate.server.revoke import revoke
from authgate.server.token import token
from authgate.server.userinfo import userinfo
from authgate.storage.base import StorageUnavailable
from authgate.web.fast import BodyTooLarge, FastApi, read_request
from authgate.web.render import HOST_PREFIX, Renderer
from authgate.web.security import SecurityHeaders

__all__ = ["create_app"]

log = logging.getLogger("authgate.web")


class Web:
    """Holds the context and renderer; each route is a method."""

    def __init__(self, settings: Settings, build: Callable[[], Awaitable[ServerContext]]):
        self.settings = settings
        self._build = build
        self.ctx: ServerContext | None = None
        self.renderer = Renderer(
            secure_cookies=settings.is_https,
            cookie_path=settings.path_prefix or "/",
            static_path=f"{settings.path_prefix}/static",
        )

    def cookies(self, raw: Mapping[str, str]) -> dict[str, str]:
        """Our cookies by their plain names; on https only the ``__Host-`` ones count."""
        if not self.renderer.secure:
            return dict(raw)
        return {
            name.removeprefix(HOST_PREFIX): value
            for name, value in raw.items()
            if name.startswith(HOST_PREFIX)
        }

    async def to_http_request(self, request: Request) -> HttpRequest:
        return await read_request(
            request.scope,
            request.receive,
            trust_forwarded_for=self.settings.trust_forwarded_for,
            cookie_filter=self.cookies,
        )

    def page(
        self, use_case: Callable[[ServerContext, HttpRequest], Awaitable[ProtocolResponse]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A front-channel endpoint for browsers: errors become HTML pages."""

        async def endpoint(request: Request) -> Response:
            return await self.run_page(use_case, lambda: self.to_http_request(request))

        return endpoint

    async def run_page(
        self,
        use_case: Callable[[ServerContext, HttpRequest], Awaitable[ProtocolResponse]],
        make_request: Callable[[], Awaitable[HttpRequest]],
    ) -> Response:
        """Run a front-channel use case; every error becomes an HTML page (never a trace)."""
        assert self.ctx is not None  # noqa: S101 - set by the lifespan
        try:
            result = await use_case(self.ctx, await make_request())
        except BodyTooLarge:
            result = error_page("Request too large", "The request is too large.", 413)
        except OAuthError as exc:
            result = error_page(
                "Invalid request", "The request could not be processed.", exc.status_code, exc
            )
        except StorageUnavailable:
            log.warning("database unavailable")
            result = error_page(
                "Temporarily unavailable",
                "The service is temporarily unavailable. Try again shortly.",
                503,
            )
        except Exception:
            log.exception("unexpected error")
            result = error_page(
                "Something went wrong", "An unexpected error occurred. Try again later.", 500
            )
        return self.renderer.render(result)

    def interaction(
        self,
        handler: Callable[[ServerContext, HttpRequest, str], Awaitable[ProtocolResponse]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def bound(ctx: ServerContext, http: HttpRequest) -> ProtocolResponse:
                return await handler(ctx, http, request.path_params["interaction_id"])

            return await self.page(bound)(request)

        return endpoint

    async def live(self, request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def ready(self, request: Request) -> Response:
        assert self.ctx is not None  # noqa: S101
        try:
            await self.ctx.storage.ping()
        except StorageUnavailable:
            return Response(
                b'{"status":"unavailable"}', status_code=503, media_type="application/json"
            )
        return Response(b'{"status":"ready"}', media_type="application/json")

    def routes(self) -> list[BaseRoute]:
        static = Path(__file__).parent / "static"
        return [
            Route("/authorize", self.page(authorize), methods=["GET", "POST"]),
            Route("/login/{interaction_id}", self.interaction(login_page), methods=["GET"]),
            Route("/login/{interaction_id}", self.interaction(login_submit), methods=["POST"]),
            Route("/consent/{interaction_id}", self.interaction(consent_page), methods=["GET"]),
            Route("/consent/{interaction_id}", self.interaction(consent_submit), methods=["POST"]),
            Route("/health/live", self.live, methods=["GET"]),
            Route("/health/ready", self.ready, methods=["GET"]),
            Mount("/static", StaticFiles(directory=static), name="static"),
        ]


def create_app(
    settings: Settings,
    build: Callable[[], Awaitable[ServerContext]],
    extra_routes: list[BaseRoute] | None = None,
) -> SecurityHeaders:
    """Build the ASGI app. ``build`` makes the ServerContext at startup (``bootstrap`` passes
    ``build_context``); ``extra_routes`` are served beside the server's (the demo's callback)."""
    web = Web(settings, build)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        web.ctx = await web._build()
        tasks = [
            asyncio.create_task(run_key_maintenance(web.ctx, web.ctx.key_encryptor)),
            asyncio.create_task(web.ctx.storage.housekeeping()),
        ]
        if settings.purge_interval:
            tasks.append(asyncio.create_task(run_purger(web.ctx, settings.purge_interval)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await web.ctx.storage.close()

    routes = web.routes() + list(extra_routes or ())
    if settings.path_prefix:
        routes = [Mount(settings.path_prefix, routes=routes)]
    app = Starlette(routes=routes, lifespan=lifespan)
    fast = FastApi(app, lambda: web.ctx, trust_forwarded_for=settings.trust_forwarded_for)
    prefix = settings.path_prefix
    fast.use_cases.update(
        {
            ("POST", f"{prefix}/token"): token,
            ("POST", f"{prefix}/introspect"): introspect,
            ("POST", f"{prefix}/revoke"): revoke,
            ("GET", f"{prefix}/userinfo"): userinfo,
            ("POST", f"{prefix}/userinfo"): userinfo,
            ("POST", f"{prefix}/register"): register,
        }
    )
    public = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"public, max-age=300"),
        (b"access-control-allow-origin", b"*"),
    ]
    jwks_headers = [(b"content-type", b"application/jwk-set+json"), *public[1:]]
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        fast.static[("GET", prefix + path)] = lambda ctx: (ctx.discovery_json, public)
    fast.static[("GET", f"{prefix}/jwks")] = lambda ctx: (ctx.keys.jwks_json, jwks_headers)
    # The authorization endpoint is on every flow's path: no router or Request object.
    fast.pages.update({("GET", f"{prefix}/authorize"): authorize})
    fast.page_runner = web.run_page
    fast.cookie_filter = web.cookies
    return SecurityHeaders(fast, hsts=settings.is_https)
