"""Framework-neutral request and response values exchanged between ``web`` and ``server``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from authgate.core.authorization import RedirectTarget
from authgate.core.errors import InvalidRequest, OAuthError
from authgate.core.params import Params, parse_urlencoded

__all__ = [
    "AuthorizationResponse",
    "FORM_CONTENT_TYPE",
    "Cookie",
    "HttpRequest",
    "JsonResponse",
    "PageResponse",
    "PageResult",
    "RedirectResponse",
    "Response",
    "error_page",
]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_NO_PATH_PARAMS: Mapping[str, str] = MappingProxyType({})


def _no_path_params() -> Mapping[str, str]:
    return _NO_PATH_PARAMS


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request as the use cases see it. Header names are lower-case; ``path_params``
    are the ``{name}`` segments of the route's path (``/login/{interaction_id}``)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    body: bytes = b""
    client_ip: str = ""
    path_params: Mapping[str, str] = field(default_factory=_no_path_params)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def query_params(self) -> Params:
        return parse_urlencoded(self.query)

    def require_form(self) -> None:
        """Refuse a body that is not a form with an ``invalid_request``; the web layer calls it
        for every route declared ``form=True`` before the use case runs.

        Spec: RFC 6749 §3.2 (token requests use application/x-www-form-urlencoded).
        """
        if self.content_type != FORM_CONTENT_TYPE:
            raise InvalidRequest(f"the request body must be {FORM_CONTENT_TYPE}")

    def form_params(self) -> Params:
        """The body as form parameters; other content types are an ``invalid_request``.

        Spec: RFC 6749 §3.2 (token requests use application/x-www-form-urlencoded).
        """
        self.require_form()
        return parse_urlencoded(self.body)


@dataclass(frozen=True, slots=True)
class Cookie:
    """A cookie to set. ``max_age`` None makes a browser-session cookie; 0 deletes it."""

    name: str
    value: str
    max_age: int | None = None


@dataclass(frozen=True, slots=True)
class JsonResponse:
    """A JSON API response (token endpoint, userinfo, registration, discovery ...)."""

    body: Mapping[str, Any] | bytes
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    no_store: bool = True


@dataclass(frozen=True, slots=True)
class RedirectResponse:
    """A 303 See Other to a page of this server."""

    location: str
    cookies: tuple[Cookie, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorizationResponse:
    """A response to the client's redirect URI, success (code) or error, delivered by the
    target's response mode. Only a ``RedirectTarget`` (a redirect URI validated against the
    registered client) can carry one: before that, an error is a page. ``error`` is the OAuth
    error the params describe, if any (the web layer logs its ``debug``). Spec: RFC 6749
    §4.1.2, §4.1.2.1; RFC 9207 §2; OAuth 2.0 Form Post Response Mode §2."""

    target: RedirectTarget
    params: Mapping[str, str]
    cookies: tuple[Cookie, ...] = ()
    error: OAuthError | None = None


@dataclass(frozen=True, slots=True)
class PageResponse:
    """An HTML page for a person: the template and its context; ``error`` is the OAuth error
    an error page shows, if any (the web layer logs its ``debug``)."""

    template: str
    context: Mapping[str, Any]
    status: int = 200
    cookies: tuple[Cookie, ...] = ()
    error: OAuthError | None = None


PageResult = RedirectResponse | AuthorizationResponse | PageResponse
"""What a browser-facing use case returns."""
Response = JsonResponse | PageResult


def error_page(
    title: str, message: str, status: int = 400, error: OAuthError | None = None
) -> PageResponse:
    """A human-readable error page (never a redirect, never a stack trace)."""
    context: dict[str, Any] = {"title": title, "message": message}
    if error is not None:
        context["error"] = error.error
        context["description"] = error.description
    return PageResponse("error.html", context, status=status, error=error)
