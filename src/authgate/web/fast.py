"""A pure ASGI fast path for the JSON endpoints: token, introspection, revocation, UserInfo,
registration, JWKS, discovery and health. Same use cases and the same error rendering as the
Starlette routes, without the router, middleware stack and Request/Response objects (measured:
about a quarter of a token request's CPU). Anything it does not match (another method, the
HTML pages) goes to the Starlette application unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.core.errors import InvalidRequest, OAuthError, ServerError, TemporarilyUnavailable
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.server.http import Response as ProtocolResponse
from authgate.storage.base import StorageUnavailable

__all__ = ["BodyTooLarge", "FastApi", "MAX_BODY", "PageRunner", "read_request"]

log = logging.getLogger("authgate.web")
MAX_BODY = 64 * 1024
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_JSON = (b"content-type", b"application/json")

UseCase = Callable[[ServerContext, HttpRequest], Awaitable[ProtocolResponse]]
Static = Callable[[ServerContext], tuple[bytes, list[tuple[bytes, bytes]]]]
PageRunner = Callable[[UseCase, Callable[[], Awaitable[HttpRequest]]], Awaitable[ASGIApp]]
"""Runs a browser-facing use case and renders its result, or its error, as a page."""


class BodyTooLarge(Exception):
    """The request body exceeds MAX_BODY (answered 413)."""


class FastApi:
    """Dispatches ``(method, path)`` to a use case or a prebuilt response."""

    def __init__(
        self,
        app: ASGIApp,
        context: Callable[[], ServerContext | None],
        *,
        trust_forwarded_for: bool,
    ) -> None:
        self.app = app
        self._context = context
        self._trust_forwarded = trust_forwarded_for
        self.use_cases: dict[tuple[str, str], UseCase] = {}
        self.static: dict[tuple[str, str], Static] = {}
        # Browser pages with a fixed path (the authorization endpoint): rendered by the web
        # layer's ``page_runner``, with the cookies ``cookie_filter`` keeps.
        self.pages: dict[tuple[str, str], UseCase] = {}
        self.page_runner: PageRunner | None = None
        self.cookie_filter: Callable[[dict[str, str]], dict[str, str]] = dict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"])
        ctx = self._context()
        static = self.static.get(key)
        if static is not None and ctx is not None:
            body, headers = static(ctx)
            await _send(send, 200, body, headers)
            return
        page = self.pages.get(key)
        if page is not None and ctx is not None and self.page_runner is not None:
            response = await self.page_runner(page, lambda: self._request(scope, receive, True))
            await response(scope, receive, send)
            return
        use_case = self.use_cases.get(key)
        if use_case is None or ctx is None:
            # A page's other methods (POST /authorize) stay with the Starlette routes.
            routes = (*self.use_cases, *self.static)
            allowed = sorted(m for m, p in routes if p == key[1])
            if allowed and ctx is not None:
                await _send(
                    send,
                    405,
                    b"method not allowed",
                    [(b"allow", ", ".join(allowed).encode()), (b"content-type", b"text/plain")],
                )
                return
            await self.app(scope, receive, send)
            return
        await self._run(ctx, use_case, scope, receive, send)

    async def _run(
        self, ctx: ServerContext, use_case: UseCase, scope: Scope, receive: Receive, send: Send
    ) -> None:
        try:
            request = await self._request(scope, receive)
            result = await use_case(ctx, request)
            if not isinstance(result, JsonResponse):  # the JSON use cases return JSON only
                raise ServerError("unexpected response type")
            await _send_json(send, result)
        except BodyTooLarge:
            await _send(send, 413, b"request body too large", [(b"content-type", b"text/plain")])
        except OAuthError as exc:
            if exc.debug:
                log.info("%s: %s", exc.error, exc.debug)
            await _send_error(send, exc)
        except StorageUnavailable:
            log.warning("database unavailable")
            await _send_error(
                send, TemporarilyUnavailable("the service is temporarily unavailable")
            )
        except Exception:
            log.exception("unexpected error")
            await _send_error(send, ServerError("unexpected error"))

    async def _request(
        self, scope: Scope, receive: Receive, with_cookies: bool = False
    ) -> HttpRequest:
        return await read_request(
            scope,
            receive,
            trust_forwarded_for=self._trust_forwarded,
            cookie_filter=self.cookie_filter if with_cookies else None,
        )


async def read_request(
    scope: Scope,
    receive: Receive,
    *,
    trust_forwarded_for: bool,
    cookie_filter: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> HttpRequest:
    """The ``HttpRequest`` of an ASGI request, for the fast path and the Starlette pages alike:
    headers lower-cased with the first of a repeated one kept (a repeated Authorization is
    refused), a POST body of at most ``MAX_BODY`` bytes, the client address (the first
    ``X-Forwarded-For`` entry only when trusted) and, with ``cookie_filter``, the cookies."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in headers:
            if name == "authorization":
                raise InvalidRequest("the Authorization header is repeated")
            continue
        headers[name] = raw_value.decode("latin-1")
    body = b""
    if scope["method"] == "POST":
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise BodyTooLarge
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                raise BodyTooLarge
            if not message.get("more_body", False):
                break
    client = scope.get("client")
    ip = client[0] if client else ""
    if trust_forwarded_for and headers.get("x-forwarded-for"):
        ip = headers["x-forwarded-for"].split(",")[0].strip()[:64]
    cookies = cookie_filter(cookie_parser(headers.get("cookie", ""))) if cookie_filter else {}
    return HttpRequest(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        cookies=cookies,
        body=body,
        client_ip=ip,
    )


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_json(send: Send, result: JsonResponse) -> None:
    body = result.body if isinstance(result.body, bytes) else orjson.dumps(result.body)
    headers = [
        _JSON,
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in result.headers.items()),
    ]
    if result.no_store:
        headers.extend(_NO_STORE)
    await _send(send, result.status, body, headers)


async def _send_error(send: Send, error: OAuthError) -> None:
    """The JSON error of the back-channel endpoints. Spec: RFC 6749 §5.2; RFC 6750 §3."""
    await _send_json(
        send, JsonResponse(error.body(), status=error.status_code, headers=error.headers())
    )
