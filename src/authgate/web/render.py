"""Every byte authgate answers with, one renderer per channel: JSON (the back-channel endpoints
and their OAuth errors), pages (HTML for people), redirects and authorization responses (query
or form_post), and the plain-text answers of the front door (404, 405, 413). The one place that
owns the no-store headers, cookies (the ``__Host-`` prefix policy), ``WWW-Authenticate`` (from
the error's ``headers()``), the CSP of pages and form_post, and the logging of
``OAuthError.debug``, whatever the channel.

Spec: RFC 6749 §4.1.2 (redirect with query), §5.1 and §5.2 (JSON, no-store), RFC 6750 §3
(WWW-Authenticate); OAuth 2.0 Form Post Response Mode §2; RFC 9700 §4.12 (303).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.types import Send

from authgate.core.errors import OAuthError
from authgate.server.authorize import redirect_url
from authgate.server.http import (
    AuthorizationResponse,
    Cookie,
    JsonResponse,
    PageResponse,
    RedirectResponse,
    error_page,
)
from authgate.server.http import Response as ProtocolResponse
from authgate.web.security import PAGE_CSP

__all__ = [
    "HOST_PREFIX",
    "PAGE_INVALID_FORM",
    "PAGE_TOO_LARGE",
    "PAGE_UNAVAILABLE",
    "PAGE_UNEXPECTED",
    "Header",
    "Rendered",
    "Renderer",
    "log_debug",
    "page_for_error",
    "send_json",
    "send_oauth_error",
    "send_plain",
    "send_raw",
]

log = logging.getLogger("authgate.web")
Header = tuple[bytes, bytes]
HOST_PREFIX = "__Host-"
_NO_STORE: list[Header] = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_JSON: Header = (b"content-type", b"application/json")
_HTML: Header = (b"content-type", b"text/html; charset=utf-8")
_TEMPLATES = Path(__file__).parent / "templates"

# The page channel's answers when no use case result is there to render.
PAGE_TOO_LARGE = error_page("Request too large", "The request is too large.", 413)
PAGE_INVALID_FORM = error_page("Invalid form", "The form could not be read.", 400)
PAGE_UNAVAILABLE = error_page(
    "Temporarily unavailable", "The service is temporarily unavailable. Try again shortly.", 503
)
PAGE_UNEXPECTED = error_page(
    "Something went wrong", "An unexpected error occurred. Try again later.", 500
)


def page_for_error(error: OAuthError) -> PageResponse:
    """The page for an OAuth error a browser-facing use case raised (never redirected: only a
    use case that validated the redirect URI can return an ``AuthorizationResponse``)."""
    return error_page(
        "Invalid request", "The request could not be processed.", error.status_code, error
    )


def log_debug(error: OAuthError | None) -> None:
    """Log an error's ``debug`` (never sent), on every channel."""
    if error is not None and error.debug:
        log.info("%s: %s", error.error, error.debug)


async def send_raw(send: Send, status: int, body: bytes, headers: list[Header]) -> None:
    """One response: its head (with ``content-length``) and its body."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_plain(
    send: Send, status: int, body: bytes, headers: tuple[Header, ...] = ()
) -> None:
    """A plain-text answer of the front door (405, 413)."""
    await send_raw(send, status, body, [*headers, (b"content-type", b"text/plain")])


async def send_json(send: Send, result: JsonResponse) -> None:
    """A JSON use case's result. Spec: RFC 6749 §5.1 (no-store)."""
    body = result.body if isinstance(result.body, bytes) else orjson.dumps(result.body)
    headers = [
        _JSON,
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in result.headers.items()),
    ]
    if result.no_store:
        headers.extend(_NO_STORE)
    await send_raw(send, result.status, body, headers)


async def send_oauth_error(send: Send, error: OAuthError) -> None:
    """The JSON error of the back-channel endpoints, with the headers the error needs
    (``WWW-Authenticate``); its ``debug`` is logged. Spec: RFC 6749 §5.2; RFC 6750 §3."""
    log_debug(error)
    await send_json(
        send, JsonResponse(error.body(), status=error.status_code, headers=error.headers())
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered page, redirect or authorization response, ready to send."""

    status: int
    raw_headers: list[Header]
    body: bytes = b""

    @property
    def headers(self) -> Mapping[str, str]:
        """The first value of each header, by lower-case name."""
        out: dict[str, str] = {}
        for name, value in self.raw_headers:
            out.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        return out

    async def send(self, send: Send) -> None:
        """Send it as one response."""
        await send_raw(send, self.status, self.body, self.raw_headers)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


class Renderer:
    """Renders the browser-facing results with the server's cookie policy and templates."""

    def __init__(self, *, secure_cookies: bool, cookie_path: str, static_path: str) -> None:
        self.secure = secure_cookies
        self.cookie_path = cookie_path or "/"
        self.static_path = static_path
        self.env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(("html",), default=True),
            auto_reload=False,
        )

    def render(self, result: ProtocolResponse) -> Rendered:
        """A page, a 303 to a page of this server, or the response to the client's redirect
        URI; each with its cookies, and the ``debug`` of the error it shows logged."""
        if isinstance(result, RedirectResponse):
            rendered = self._see_other(result.location)
        elif isinstance(result, AuthorizationResponse):
            log_debug(result.error)
            rendered = self.authorization(result)
        elif isinstance(result, PageResponse):
            log_debug(result.error)
            rendered = self.page(result)
        else:  # a JSON use case behind a page route: a mistake in the route table
            raise TypeError("a browser-facing use case returned JSON")
        rendered.raw_headers.extend(self._set_cookie(c) for c in result.cookies)
        return rendered

    def authorization(self, result: AuthorizationResponse) -> Rendered:
        """By the target's response mode: a self-submitting form (form_post, with a CSP that
        lets it post only to the client's origin) or a 303 with the parameters in the query."""
        target = result.target
        params = dict(result.params)
        if target.response_mode.value != "form_post":
            return self._see_other(redirect_url(target.redirect_uri, params))
        nonce = secrets.token_urlsafe(16)
        html = self.env.get_template("form_post.html").render(
            action=target.redirect_uri, fields=params, nonce=nonce
        )
        csp = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; "
            f"form-action {_origin(target.redirect_uri)}; base-uri 'none'; "
            "frame-ancestors 'none'"
        )
        return self._html(200, html, csp)

    def page(self, result: PageResponse) -> Rendered:
        """The template with its context (and the static path), with the page CSP."""
        context: dict[str, Any] = {"static": self.static_path, **result.context}
        html = self.env.get_template(result.template).render(**context)
        return self._html(result.status, html, PAGE_CSP)

    def cookie_name(self, name: str) -> str:
        """On https, cookies carry the ``__Host-`` prefix: the browser then accepts them only
        from this exact host, Secure, Path=/ and without Domain, so a sibling subdomain cannot
        plant a browser id (cookie tossing) to learn its CSRF token."""
        return HOST_PREFIX + name if self.secure else name

    def cookies(self, raw: dict[str, str]) -> dict[str, str]:
        """Our cookies by their plain names; on https only the ``__Host-`` ones count."""
        if not self.secure:
            return raw
        return {
            name.removeprefix(HOST_PREFIX): value
            for name, value in raw.items()
            if name.startswith(HOST_PREFIX)
        }

    def _set_cookie(self, cookie: Cookie) -> Header:
        """``Set-Cookie``: HttpOnly, SameSite=Lax, Secure and ``Path=/`` on https."""
        name = self.cookie_name(cookie.name)
        jar: SimpleCookie = SimpleCookie()
        jar[name] = cookie.value
        morsel = jar[name]
        if cookie.max_age is not None:
            morsel["max-age"] = cookie.max_age
        morsel["path"] = "/" if self.secure else self.cookie_path
        if self.secure:
            morsel["secure"] = True
        morsel["httponly"] = True
        morsel["samesite"] = "lax"
        return (b"set-cookie", jar.output(header="").strip().encode("latin-1"))

    @staticmethod
    def _see_other(location: str) -> Rendered:
        return Rendered(303, [(b"location", location.encode("latin-1")), *_NO_STORE])

    @staticmethod
    def _html(status: int, html: str, csp: str) -> Rendered:
        headers = [*_NO_STORE, (b"content-security-policy", csp.encode("latin-1")), _HTML]
        return Rendered(status, headers, html.encode())
