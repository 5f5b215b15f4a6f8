"""Reading an ASGI request into the framework-neutral ``HttpRequest`` the use cases take."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from starlette.requests import cookie_parser
from starlette.types import Receive, Scope

from authgate.core.errors import InvalidRequest
from authgate.server.http import HttpRequest

__all__ = ["MAX_BODY", "BodyTooLarge", "CookieFilter", "read_request"]

MAX_BODY = 64 * 1024

CookieFilter = Callable[[dict[str, str]], dict[str, str]]
"""Keeps the cookies that are ours (the ``__Host-`` prefix policy: ``Renderer.cookies``)."""

_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


class BodyTooLarge(Exception):
    """The request body exceeds MAX_BODY (answered 413)."""


async def read_request(
    scope: Scope,
    receive: Receive,
    *,
    trust_forwarded_for: bool,
    cookie_filter: CookieFilter | None = None,
    path_params: Mapping[str, str] = _NO_PARAMS,
) -> HttpRequest:
    """The ``HttpRequest`` of an ASGI request: headers lower-cased with the first of a repeated
    one kept (a repeated Authorization is refused), a POST body of at most ``MAX_BODY`` bytes,
    the client address (the first ``X-Forwarded-For`` entry only when trusted), with
    ``cookie_filter`` the cookies, and the route's path parameters."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in headers:
            if name == "authorization":
                raise InvalidRequest("the Authorization header is repeated")
            continue
        headers[name] = raw_value.decode("latin-1")
    body = await _body(receive, headers) if scope["method"] == "POST" else b""
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
        path_params=path_params,
    )


async def _body(receive: Receive, headers: dict[str, str]) -> bytes:
    """The whole body, refused (``BodyTooLarge``) as soon as it is known to exceed MAX_BODY."""
    declared = headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BodyTooLarge
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return body
