"""The front door: one ASGI application serving the whole route table (``web.routes``).

A fixed path is one dict lookup on ``(method, path)`` (the token request's whole routing
cost); paths with a ``{name}`` segment are matched after that; a known path with another
method is a 405 listing its methods, anything else a 404. Each channel's runner catches every
error around its use case, so the answers do not depend on the route: 413 for a body over
``MAX_BODY``, the channel's ``invalid_request`` for a body that is not a form where one is
required, 503 while the database is unavailable (or before startup opened it), and for an
unexpected exception a 500 that reveals nothing, logged with its trace.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from types import MappingProxyType

from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from authgate.core.errors import OAuthError, ServerError, TemporarilyUnavailable
from authgate.server.context import ServerContext
from authgate.server.http import FORM_CONTENT_TYPE, HttpRequest, PageResponse
from authgate.server.http import Response as ProtocolResponse
from authgate.storage.base import StorageUnavailable
from authgate.web.render import (
    PAGE_INVALID_FORM,
    PAGE_TOO_LARGE,
    PAGE_UNAVAILABLE,
    PAGE_UNEXPECTED,
    Header,
    Renderer,
    page_for_error,
    send_json,
    send_oauth_error,
    send_plain,
    send_raw,
)
from authgate.web.request import BodyTooLarge, CookieFilter, read_request
from authgate.web.routes import Endpoint, Files, Health, Json, Page, Prebuilt, Route

__all__ = ["Dispatcher", "Lifespan"]

log = logging.getLogger("authgate.web")

Runner = Callable[[Scope, Receive, Send, Mapping[str, str]], Awaitable[None]]
Lifespan = Callable[[], AbstractAsyncContextManager[ServerContext]]
"""Builds the context at startup and closes it at shutdown."""

_NO_PARAMS: Mapping[str, str] = MappingProxyType({})
_TEXT_UTF8: Header = (b"content-type", b"text/plain; charset=utf-8")
_UNAVAILABLE = TemporarilyUnavailable("the service is temporarily unavailable")
_PARAM = re.compile(r"\{(\w+)(:path)?\}")


class _Pattern:
    """The routes of one path with ``{name}`` segments, by method. ``prefix`` and the text
    between the segments are literal (an issuer's path may hold ``.``, ``(`` or ``{``)."""

    def __init__(self, prefix: str, template: str) -> None:
        parts, end = [re.escape(prefix)], 0
        for m in _PARAM.finditer(template):
            parts += [re.escape(template[end : m.start()]), _segment(m[1], bool(m[2]))]
            end = m.end()
        self.regex = re.compile("".join([*parts, re.escape(template[end:])]))
        self.mount = prefix + template.split("{", 1)[0].rstrip("/")
        self.runners: dict[str, Runner] = {}

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.runners))


def _segment(name: str, rest: bool) -> str:
    """A ``{name}`` (one path segment) or ``{name:path}`` (the rest of the path)."""
    return f"(?P<{name}>{'.*' if rest else '[^/]+'})"


class Dispatcher:
    """Serves ``routes`` under ``prefix``: the one router and error boundary of the server."""

    def __init__(
        self,
        routes: Iterable[Route],
        *,
        prefix: str,
        renderer: Renderer,
        trust_forwarded_for: bool,
        lifespan: Lifespan,
    ) -> None:
        self.ctx: ServerContext | None = None
        self.renderer = renderer
        self._trust_forwarded = trust_forwarded_for
        self._lifespan = lifespan
        self._fixed: dict[tuple[str, str], Runner] = {}
        self._allow: dict[str, str] = {}
        self._patterns: dict[str, _Pattern] = {}
        for route in routes:
            self._add(route, prefix)
        for _, path in self._fixed:
            self._allow[path] = ", ".join(sorted(m for m, p in self._fixed if p == path))

    def _add(self, route: Route, prefix: str) -> None:
        path = prefix + route.path
        templated = "{" in route.path  # the route's own path, never the prefix
        if templated:
            pattern = self._patterns.setdefault(path, _Pattern(prefix, route.path))
            runners = pattern.runners
            runner = self._runner(route.endpoint, route.form, pattern.mount)
        else:
            runners = {}
            runner = self._runner(route.endpoint, route.form, path)
        for method in route.methods:
            if method in runners or (method, path) in self._fixed:
                raise ValueError(f"{method} {path} is declared twice")
            runners[method] = runner
            if not templated:
                self._fixed[(method, path)] = runner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            run = self._fixed.get((scope["method"], scope["path"]))
            if run is not None:
                await run(scope, receive, send, _NO_PARAMS)
            else:
                await self._match(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._serve_lifespan(receive, send)
        else:  # no websocket routes
            await send({"type": "websocket.close", "code": 1000, "reason": ""})

    async def _match(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        allow = self._allow.get(path)
        if allow is None:
            for pattern in self._patterns.values():
                found = pattern.regex.fullmatch(path)
                if found is None:
                    continue
                run = pattern.runners.get(scope["method"])
                if run is not None:
                    await run(scope, receive, send, found.groupdict())
                    return
                allow = pattern.allow
                break
        if allow is None:
            await send_raw(send, 404, b"Not Found", [_TEXT_UTF8])
        else:
            await send_plain(send, 405, b"method not allowed", ((b"allow", allow.encode()),))

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol: the context exists between startup and shutdown."""
        started = False
        await receive()
        try:
            async with self._lifespan() as ctx:
                self.ctx = ctx
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()
        except BaseException:
            failed = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failed, "message": traceback.format_exc()})
            raise
        finally:
            self.ctx = None
        await send({"type": "lifespan.shutdown.complete"})

    async def _read(
        self,
        scope: Scope,
        receive: Receive,
        params: Mapping[str, str],
        cookies: CookieFilter | None,
    ) -> tuple[ServerContext, HttpRequest]:
        """The context and the request, for the runners of use cases."""
        ctx = self._context()
        request = await read_request(
            scope,
            receive,
            trust_forwarded_for=self._trust_forwarded,
            cookie_filter=cookies,
            path_params=params,
        )
        return ctx, request

    def _context(self) -> ServerContext:
        """The context; before startup (or after shutdown) the database is not open: 503."""
        if self.ctx is None:
            raise StorageUnavailable("the server has not started")
        return self.ctx

    def _runner(self, endpoint: Endpoint, form: bool, mount: str) -> Runner:
        if isinstance(endpoint, Json):
            return self._json(endpoint, form)
        if isinstance(endpoint, Page):
            return self._page(endpoint, form)
        if isinstance(endpoint, Prebuilt):
            return self._prebuilt(endpoint)
        if isinstance(endpoint, Health):
            return self._health(endpoint)
        return self._files(endpoint, mount)

    def _json(self, endpoint: Json, form: bool) -> Runner:
        use_case = endpoint.use_case

        async def run(
            scope: Scope, receive: Receive, send: Send, params: Mapping[str, str]
        ) -> None:
            try:
                ctx, request = await self._read(scope, receive, params, None)
                if form:
                    request.require_form()
                await send_json(send, await use_case(ctx, request))
            except BodyTooLarge:
                await send_plain(send, 413, b"request body too large")
            except OAuthError as exc:
                await send_oauth_error(send, exc)
            except StorageUnavailable:
                log.warning("database unavailable")
                await send_oauth_error(send, _UNAVAILABLE)
            except Exception:
                log.exception("unexpected error")
                await send_oauth_error(send, ServerError("unexpected error"))

        return run

    def _page(self, endpoint: Page, form: bool) -> Runner:
        use_case = endpoint.use_case
        renderer = self.renderer

        async def run(
            scope: Scope, receive: Receive, send: Send, params: Mapping[str, str]
        ) -> None:
            try:
                ctx, request = await self._read(scope, receive, params, renderer.cookies)
                if form and request.content_type != FORM_CONTENT_TYPE:
                    result: ProtocolResponse = PAGE_INVALID_FORM
                else:
                    result = await use_case(ctx, request)
                rendered = renderer.render(result)
            except Exception as exc:
                rendered = renderer.render(_error_page(exc))
            await rendered.send(send)

        return run

    def _prebuilt(self, endpoint: Prebuilt) -> Runner:
        async def run(
            scope: Scope, receive: Receive, send: Send, params: Mapping[str, str]
        ) -> None:
            try:
                body = endpoint.body(self._context())
            except StorageUnavailable:
                await send_oauth_error(send, _UNAVAILABLE)
                return
            except Exception:
                log.exception("unexpected error")
                await send_oauth_error(send, ServerError("unexpected error"))
                return
            await send_raw(send, 200, body, list(endpoint.headers))

        return run

    def _health(self, endpoint: Health) -> Runner:
        probe = endpoint.probe
        json = [(b"content-type", b"application/json")]

        async def run(
            scope: Scope, receive: Receive, send: Send, params: Mapping[str, str]
        ) -> None:
            if probe is None:
                await send_raw(send, 200, b'{"status":"ok"}', json)
                return
            try:
                await probe(self._context())
            except StorageUnavailable:
                await send_raw(send, 503, b'{"status":"unavailable"}', json)
                return
            except Exception:
                log.exception("unexpected error")
                await send_raw(send, 500, b"Internal Server Error", [_TEXT_UTF8])
                return
            await send_raw(send, 200, b'{"status":"ready"}', json)

        return run

    def _files(self, endpoint: Files, mount: str) -> Runner:
        app = endpoint.app

        async def run(
            scope: Scope, receive: Receive, send: Send, params: Mapping[str, str]
        ) -> None:
            child = {**scope, "root_path": scope.get("root_path", "") + mount}
            try:
                await app(child, receive, send)
            except HTTPException as exc:  # not found
                headers = [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in (exc.headers or {}).items()
                ]
                await send_raw(send, exc.status_code, exc.detail.encode(), [*headers, _TEXT_UTF8])
            except Exception:
                log.exception("unexpected error")
                await send_raw(send, 500, b"Internal Server Error", [_TEXT_UTF8])

        return run


def _error_page(exc: Exception) -> PageResponse:
    """The page channel's answer to an error around a use case."""
    if isinstance(exc, BodyTooLarge):
        return PAGE_TOO_LARGE
    if isinstance(exc, OAuthError):
        return page_for_error(exc)
    if isinstance(exc, StorageUnavailable):
        log.warning("database unavailable")
        return PAGE_UNAVAILABLE
    log.error("unexpected error", exc_info=exc)
    return PAGE_UNEXPECTED
