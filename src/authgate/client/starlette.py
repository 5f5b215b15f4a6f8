"""Starlette integration for a web app that signs users in with an OpenID provider.

The browser gets one cookie holding a random session id and its HMAC signature; the flow
state, the ID token claims and the tokens stay on the server (``TokenStore``). Logout is a POST
with a per-session CSRF token, revokes the refresh token and ends the session.

    auth = OidcAuth(client, secret_key=..., redirect_uri="https://app.example.com/callback",
                    scope="openid profile offline_access")
    app = Starlette(routes=[*auth.routes(), Route("/", home)])

    @auth.require_login
    async def home(request):
        user = auth.user(request)                  # ID token claims
        api = auth.http(request)                   # httpx client that refreshes on 401

Spec: RFC 6749 §10.12 (CSRF: state), OIDC Core §3.1.2.1 (nonce), RFC 9700 §4.7, §4.14;
OAuth 2.0 for Browser-Based Apps (tokens stay in the backend).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from authgate.client.async_client import Client
from authgate.client.auth import RefreshingAuth
from authgate.client.errors import ClientError
from authgate.client.protocol import FlowState
from authgate.client.store import MemoryTokenStore, TokenStore

__all__ = ["OidcAuth"]

Endpoint = Callable[[Request], Awaitable[Response]]


PENDING_SECONDS = 600  # a sign-in not completed within 10 minutes is dropped
SESSION_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000


@dataclass
class _Session:
    flow: FlowState | None = None
    next_url: str = "/"
    claims: dict[str, Any] = field(default_factory=dict)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    expires_at: float = field(default_factory=lambda: time.time() + PENDING_SECONDS)


class OidcAuth:
    """Login, callback and logout routes plus ``require_login`` for one ``Client``."""

    def __init__(
        self,
        client: Client,
        *,
        secret_key: str,
        redirect_uri: str,
        scope: str = "openid profile",
        extra_params: dict[str, str] | None = None,
        store: TokenStore | None = None,
        cookie_name: str = "rp_session",
        secure_cookie: bool | None = None,
        error_handler: Callable[[Request, ClientError], Awaitable[Response]] | None = None,
    ) -> None:
        self.client = client
        self._key = hashlib.sha256(b"authgate-rp:" + secret_key.encode()).digest()
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.extra_params = dict(extra_params or {})
        self.store = store or MemoryTokenStore()
        self.cookie_name = cookie_name
        self.secure = (
            redirect_uri.startswith("https://") if secure_cookie is None else (secure_cookie)
        )
        self.error_handler = error_handler
        self.prefix = ""
        # Oldest first: expired and surplus sessions are dropped from the front (LRU).
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._auth: dict[str, RefreshingAuth] = {}

    # -- routes ------------------------------------------------------------------------------

    def routes(self, prefix: str = "") -> list[Route]:
        self.prefix = prefix
        callback_path = urlsplit(self.redirect_uri).path
        return [
            Route(f"{prefix}/login", self.login, methods=["GET"]),
            Route(callback_path, self.callback, methods=["GET"]),
            Route(f"{prefix}/logout", self.logout, methods=["POST"]),
        ]

    async def login(self, request: Request) -> Response:
        """Start the flow: a fresh session, its flow state kept server-side."""
        next_url = _local(request.query_params.get("next", "/"))
        sid, session = self._session(request)
        if sid is None or session is None:
            # A signed-in session is reused (a new sign-in replaces it at the callback), so a
            # cross-site GET /login neither signs the user out nor orphans their tokens.
            sid, session = await self._new_session()
        url, session.flow = self.client.start_authorization(
            self.redirect_uri, self.scope, **self.extra_params
        )
        session.next_url = next_url
        response = RedirectResponse(url, status_code=303)
        self._set_cookie(response, sid)
        return response

    async def callback(self, request: Request) -> Response:
        sid, session = self._session(request)
        if session is None or session.flow is None:
            return await self._error(request, ClientError("no sign-in in progress"))
        flow, session.flow = session.flow, None  # one use
        try:
            tokens = await self.client.finish_authorization(str(request.url), flow)
        except ClientError as exc:
            if not session.claims:
                await self._end(sid or "")
            return await self._error(request, exc)
        # A new session id after sign-in (no fixation); the old one and its tokens go.
        await self._end(sid or "")
        new_sid, fresh = await self._new_session()
        fresh.claims = dict(tokens.claims)
        fresh.expires_at = time.time() + SESSION_SECONDS
        await self.store.set(new_sid, tokens)
        response = RedirectResponse(session.next_url, status_code=303)
        self._set_cookie(response, new_sid)
        return response

    async def logout(self, request: Request) -> Response:
        """POST with the session's CSRF token: revoke the refresh token, end the session.
        Without a valid token nothing happens (a cross-site POST cannot sign anyone out)."""
        sid, session = self._session(request)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > 4096:
                return Response("request too large", status_code=413)
        csrf = dict(parse_qsl(body.decode("latin-1"))).get("csrf", "")
        if session is None or not hmac.compare_digest(csrf.encode(), session.csrf.encode()):
            return Response(
                "Sign-out form expired: reload the page.", status_code=403, media_type="text/plain"
            )
        tokens = await self.store.get(sid or "")
        if tokens is not None and tokens.refresh_token:
            # The local sign-out happens even if the provider cannot be reached.
            with contextlib.suppress(ClientError, httpx.HTTPError):
                await self.client.revoke(tokens.refresh_token, "refresh_token")
        await self._end(sid or "")
        response = RedirectResponse(f"{self.prefix}/", status_code=303)
        response.delete_cookie(self.cookie_name, path="/")
        return response

    # -- for the app's endpoints -------------------------------------------------------------

    def require_login(self, endpoint: Endpoint) -> Endpoint:
        """Run ``endpoint`` for signed-in users; send the others to the login route."""

        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            sid, session = self._session(request)
            if session is None or not session.claims or await self.store.get(sid or "") is None:
                target = quote(
                    request.url.path + (f"?{request.url.query}" if request.url.query else "")
                )
                return RedirectResponse(f"{self.prefix}/login?next={target}", status_code=303)
            return await endpoint(request)

        return guarded

    def user(self, request: Request) -> dict[str, Any] | None:
        """The signed-in user's ID token claims."""
        _, session = self._session(request)
        return session.claims if session is not None and session.claims else None

    def csrf_token(self, request: Request) -> str:
        """The token the logout form must post back."""
        _, session = self._session(request)
        return session.csrf if session is not None else ""

    def http(self, request: Request, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx client that sends this user's access token and refreshes it on 401."""
        sid, _ = self._session(request)
        auth = self._auth.setdefault(sid or "", RefreshingAuth(self.client, self.store, sid or ""))
        return httpx.AsyncClient(auth=auth, **kwargs)

    # -- sessions ----------------------------------------------------------------------------

    def _sign(self, sid: str) -> str:
        return hmac.new(self._key, sid.encode(), hashlib.sha256).hexdigest()

    async def _new_session(self) -> tuple[str, _Session]:
        now = time.time()
        while self._sessions:
            oldest_sid, oldest = next(iter(self._sessions.items()))
            if oldest.expires_at > now and len(self._sessions) < MAX_SESSIONS:
                break
            await self._end(oldest_sid)
        sid = secrets.token_urlsafe(32)
        session = _Session()
        self._sessions[sid] = session
        return sid, session

    async def _end(self, sid: str) -> None:
        """Forget a session with its tokens."""
        self._sessions.pop(sid, None)
        self._auth.pop(sid, None)
        await self.store.delete(sid)

    def _session(self, request: Request) -> tuple[str | None, _Session | None]:
        raw = request.cookies.get(self.cookie_name, "")
        sid, _, signature = raw.partition(".")
        if not sid or not hmac.compare_digest(signature.encode(), self._sign(sid).encode()):
            return None, None
        session = self._sessions.get(sid)
        if session is None or session.expires_at < time.time():
            return None, None
        self._sessions.move_to_end(sid)
        return sid, session

    def _set_cookie(self, response: Response, sid: str) -> None:
        response.set_cookie(
            self.cookie_name,
            f"{sid}.{self._sign(sid)}",
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    async def _error(self, request: Request, error: ClientError) -> Response:
        if self.error_handler is not None:
            return await self.error_handler(request, error)
        return Response(f"Sign-in failed: {error}", status_code=400, media_type="text/plain")


def _local(url: str) -> str:
    """Only same-site paths as the post-login target (no open redirect)."""
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url
