"""The route table: every endpoint authgate serves, declared once with its method(s), path,
what answers it and on which channel. ``web.dispatch.Dispatcher`` serves it (the path prefix
is applied there, once); the channel decides how results and errors are rendered
(``web.render``):

- ``Json``: a back-channel use case; its result and its OAuth errors are JSON.
- ``Page``: a browser-facing use case; its errors are HTML pages, never a trace.
- ``Prebuilt``: a body built at startup (discovery, JWKS), sent as it is.
- ``Health``: the liveness and readiness probes.
- ``Files``: the static files (stylesheet).

``form=True``: the POST body must be a form; anything else is refused before the use case runs.
``{name}`` in a path is one path segment, given to the use case as ``request.path_params``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from authgate.server.authorize import authorize
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, JsonResponse
from authgate.server.http import Response as ProtocolResponse
from authgate.server.interaction import consent_page, consent_submit, login_page, login_submit
from authgate.server.introspect import introspect
from authgate.server.register import register
from authgate.server.revoke import revoke
from authgate.server.token import token
from authgate.server.userinfo import userinfo

__all__ = [
    "ROUTES",
    "Endpoint",
    "Files",
    "Health",
    "Json",
    "Page",
    "Prebuilt",
    "Route",
]

Header = tuple[bytes, bytes]
JsonUseCase = Callable[[ServerContext, HttpRequest], Awaitable[JsonResponse]]
PageUseCase = Callable[[ServerContext, HttpRequest], Awaitable[ProtocolResponse]]
InteractionStep = Callable[[ServerContext, HttpRequest, str], Awaitable[ProtocolResponse]]


@dataclass(frozen=True, slots=True)
class Json:
    """A back-channel endpoint: JSON results, OAuth errors as JSON. Spec: RFC 6749 §5.1-§5.2."""

    use_case: JsonUseCase


@dataclass(frozen=True, slots=True)
class Prebuilt:
    """A public document built at startup: ``body`` reads it from the context."""

    body: Callable[[ServerContext], bytes]
    headers: tuple[Header, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """A browser-facing endpoint: pages, redirects and authorization responses."""

    use_case: PageUseCase


@dataclass(frozen=True, slots=True)
class Health:
    """A health probe: ``probe`` (the database) must pass for 200; None: the process answers."""

    probe: Callable[[ServerContext], Awaitable[None]] | None


@dataclass(frozen=True, slots=True)
class Files:
    """Static files under the route's path (an ASGI app given the rest of the path)."""

    app: ASGIApp


Endpoint = Json | Page | Prebuilt | Health | Files


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the table: the methods, the path (without the prefix) and its endpoint."""

    methods: tuple[str, ...]
    path: str
    endpoint: Endpoint
    form: bool = False


def _interaction(step: InteractionStep) -> PageUseCase:
    """A sign-in or consent step, given the ``{interaction_id}`` of its path."""

    async def use_case(ctx: ServerContext, request: HttpRequest) -> ProtocolResponse:
        return await step(ctx, request, request.path_params["interaction_id"])

    use_case.__qualname__ = use_case.__name__ = step.__name__
    return use_case


def _discovery(ctx: ServerContext) -> bytes:
    return ctx.discovery_json


def _jwks(ctx: ServerContext) -> bytes:
    return ctx.keys.jwks_json


async def _database(ctx: ServerContext) -> None:
    await ctx.storage.ping()


_PUBLIC = ((b"cache-control", b"public, max-age=300"), (b"access-control-allow-origin", b"*"))
_DISCOVERY = Prebuilt(_discovery, ((b"content-type", b"application/json"), *_PUBLIC))
_JWKS = Prebuilt(_jwks, ((b"content-type", b"application/jwk-set+json"), *_PUBLIC))
_GET = ("GET",)
_POST = ("POST",)
_BROWSER_GET = ("GET", "HEAD")  # pages, probes and files answer HEAD as they always did

ROUTES: tuple[Route, ...] = (
    # Back channel. Spec: RFC 6749 §3.2; RFC 7662 §2; RFC 7009 §2; OIDC Core §5.3; RFC 7591 §3.
    Route(_POST, "/token", Json(token), form=True),
    Route(_POST, "/introspect", Json(introspect), form=True),
    Route(_POST, "/revoke", Json(revoke), form=True),
    Route(("GET", "POST"), "/userinfo", Json(userinfo)),
    Route(_POST, "/register", Json(register)),
    # Metadata. Spec: OIDC Discovery §4; RFC 8414 §3; RFC 7517 §5.
    Route(_GET, "/.well-known/openid-configuration", _DISCOVERY),
    Route(_GET, "/.well-known/oauth-authorization-server", _DISCOVERY),
    Route(_GET, "/jwks", _JWKS),
    # Front channel. Spec: RFC 6749 §4.1.1; OIDC Core §3.1.2.1, §3.1.2.3-§3.1.2.4.
    Route(_BROWSER_GET, "/authorize", Page(authorize)),
    Route(_POST, "/authorize", Page(authorize), form=True),
    Route(_BROWSER_GET, "/login/{interaction_id}", Page(_interaction(login_page))),
    Route(_POST, "/login/{interaction_id}", Page(_interaction(login_submit)), form=True),
    Route(_BROWSER_GET, "/consent/{interaction_id}", Page(_interaction(consent_page))),
    Route(_POST, "/consent/{interaction_id}", Page(_interaction(consent_submit)), form=True),
    # Operations and assets.
    Route(_BROWSER_GET, "/health/live", Health(None)),
    Route(_BROWSER_GET, "/health/ready", Health(_database)),
    Route(
        _BROWSER_GET,
        "/static/{path:path}",
        Files(StaticFiles(directory=Path(__file__).parent / "static")),
    ),
)
