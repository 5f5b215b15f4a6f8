"""Internal: the public names are re-exported by ``authgate.resource``.

Pure ASGI middleware: reads the bearer token, validates it, puts the result in
``request.state.access_token`` (``scope["state"]["access_token"]``), or answers with an
RFC 6750 error.

The token is read from the ``Authorization`` header only: a token in the query string is
refused (RFC 6750 §2.3 is insecure: URLs are logged), and the form-body method is not
supported (the middleware does not consume request bodies).

Spec: RFC 6750 §2.1, §3, §3.1.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.core.errors import InvalidRequest, InvalidToken, OAuthError, safe_description
from authgate.resource.validators import TokenValidator

__all__ = ["BearerTokenMiddleware", "send_bearer_error"]

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_RFC6750_CODES = frozenset({"invalid_request", "invalid_token", "insufficient_scope"})


async def send_bearer_error(
    send: Send, error: OAuthError | None, realm: str, scope_needed: str = ""
) -> None:
    """An RFC 6750 §3 response: ``WWW-Authenticate: Bearer`` with the error (none at all when
    no credentials were sent), JSON body, ``no-store``."""
    parts = [f'realm="{safe_description(realm)}"']
    status = 401
    body: dict[str, Any] = {}
    if error is not None:
        status = error.status_code
        body = {"error": error.error}
        if error.error in _RFC6750_CODES:
            parts.append(f'error="{error.error}"')
            if error.description:
                parts.append(f'error_description="{error.description}"')
        if error.description:
            body["error_description"] = error.description
    if scope_needed:
        parts.append(f'scope="{safe_description(scope_needed)}"')
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"cache-control", b"no-store"),
                (b"www-authenticate", ("Bearer " + ", ".join(parts)).encode("latin-1")),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BearerTokenMiddleware:
    """Validates ``Authorization: Bearer`` tokens with ``validator``.

    ``required=True`` refuses requests without a token (401 with a bare challenge); otherwise
    they go through with ``access_token`` None and endpoints decide (see ``requires_scope``).
    """

    def __init__(
        self,
        app: ASGIApp,
        validator: TokenValidator,
        *,
        realm: str = "api",
        required: bool = False,
    ) -> None:
        self.app = app
        self.validator = validator
        self.realm = realm
        self.required = required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["bearer_realm"] = self.realm  # for requires_scope's challenges
        error: OAuthError | None = None
        try:
            token = self._token(scope)
            if token is None:
                state["access_token"] = None
            else:
                state["access_token"] = await self.validator.validate(token)
        except OAuthError as exc:
            error = exc
        refused = error is not None or (self.required and state["access_token"] is None)
        if refused and scope["type"] == "websocket":
            # Before accepting: a WebSocket is refused by closing the handshake (policy).
            await send({"type": "websocket.close", "code": 1008})
            return
        if refused:
            await send_bearer_error(send, error, self.realm)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _token(scope: Scope) -> str | None:
        query = scope.get("query_string", b"").decode("latin-1")
        if any(name == "access_token" for name, _ in parse_qsl(query)):
            raise InvalidRequest("access tokens are not accepted in the query string")
        values = [v for k, v in scope.get("headers", []) if k == b"authorization"]
        if not values:
            return None
        if len(values) > 1:
            raise InvalidRequest("the Authorization header is repeated")
        header: str = values[0].decode("latin-1")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer":
            return None
        if not _B64TOKEN.fullmatch(token):
            raise InvalidToken("malformed bearer token")
        return token
