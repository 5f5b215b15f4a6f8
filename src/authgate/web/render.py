"""Turning use-case results and OAuth errors into HTTP responses. The only place that does.

Spec: RFC 6749 §4.1.2 (redirect with query), §5.1 and §5.2 (JSON, no-store), RFC 6750 §3
(WWW-Authenticate); OAuth 2.0 Form Post Response Mode §2; RFC 9700 §4.12 (303).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from authgate.server.authorize import redirect_url
from authgate.server.http import (
    AuthorizationResponse,
    Cookie,
    JsonResponse,
    PageResponse,
    RedirectResponse,
)
from authgate.server.http import Response as ProtocolResponse
from authgate.web.security import PAGE_CSP

__all__ = ["Renderer"]

_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
HOST_PREFIX = "__Host-"
_TEMPLATES = Path(__file__).parent / "templates"


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


class Renderer:
    """Renders protocol responses with the server's cookie policy and templates."""

    def __init__(self, *, secure_cookies: bool, cookie_path: str, static_path: str) -> None:
        self.secure = secure_cookies
        self.cookie_path = cookie_path or "/"
        self.static_path = static_path
        self.env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(("html",), default=True),
            auto_reload=False,
        )

    def render(self, result: ProtocolResponse) -> Response:
        if isinstance(result, JsonResponse):
            return self.json(result)
        if isinstance(result, RedirectResponse):
            response: Response = Response(
                status_code=303, headers={"location": result.location, **_NO_STORE}
            )
        elif isinstance(result, AuthorizationResponse):
            response = self.authorization(result)
        else:
            response = self.page(result)
        self._set_cookies(response, getattr(result, "cookies", ()))
        return response

    def json(self, result: JsonResponse) -> Response:
        body = result.body if isinstance(result.body, bytes) else orjson.dumps(result.body)
        headers = dict(result.headers)
        if result.no_store:
            headers.update(_NO_STORE)
        response = Response(
            body, status_code=result.status, headers=headers, media_type="application/json"
        )
        self._set_cookies(response, result.cookies)
        return response

    def authorization(self, result: AuthorizationResponse) -> Response:
        target = result.target
        params = dict(result.params)
        if target.response_mode.value == "form_post":
            nonce = secrets.token_urlsafe(16)
            html = self.env.get_template("form_post.html").render(
                action=target.redirect_uri, fields=params, nonce=nonce
            )
            csp = (
                f"default-src 'none'; script-src 'nonce-{nonce}'; "
                f"form-action {_origin(target.redirect_uri)}; base-uri 'none'; "
                "frame-ancestors 'none'"
            )
            return HTMLResponse(html, headers={**_NO_STORE, "content-security-policy": csp})
        location = redirect_url(target.redirect_uri, params)
        return Response(status_code=303, headers={"location": location, **_NO_STORE})

    def page(self, result: PageResponse) -> Response:
        context: dict[str, Any] = {"static": self.static_path, **result.context}
        html = self.env.get_template(result.template).render(**context)
        return HTMLResponse(
            html,
            status_code=result.status,
            headers={**_NO_STORE, "content-security-policy": PAGE_CSP},
        )

    def cookie_name(self, name: str) -> str:
        """On https, cookies carry the ``__Host-`` prefix: the browser then accepts them only
        from this exact host, Secure, Path=/ and without Domain, so a sibling subdomain cannot
        plant a browser id (cookie tossing) to learn its CSRF token."""
        return HOST_PREFIX + name if self.secure else name

    def _set_cookies(self, response: Response, cookies: tuple[Cookie, ...]) -> None:
        for cookie in cookies:
            response.set_cookie(
                self.cookie_name(cookie.name),
                cookie.value,
                max_age=cookie.max_age,
                path="/" if self.secure else self.cookie_path,
                secure=self.secure,
                httponly=True,
                samesite="lax",
            )
