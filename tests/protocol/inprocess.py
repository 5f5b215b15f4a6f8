"""The real authgate application, in process: ``create_server_app`` with its lifespan run by
hand, served through ``httpx.ASGITransport`` on a temporary SQLite file. No socket, no
thread: the endpoint tests in ``tests/unit/server/test_endpoint_*.py`` use it to cover every
branch quickly; the live uvicorn server of ``tests/conftest.py`` stays for the wire.

The server context is the one the application built at startup (to create users, disable
them, move the clock): ``bootstrap.build_context`` is wrapped while the lifespan starts.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from authgate import bootstrap
from authgate.cli.users import create_user
from authgate.config import Settings
from authgate.server.context import ServerContext
from tests.support.flow import forms_of

ISSUER = "http://127.0.0.1:9399"
REDIRECT_URI = "http://127.0.0.1:9349/cb"
REGISTRATION_TOKEN = "in-process-initial-access-token"
FORM = {"content-type": "application/x-www-form-urlencoded"}
Message = dict[str, Any]


def pkce() -> tuple[str, str]:
    """A fresh PKCE pair: (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Lifespan:
    """Runs an ASGI application's lifespan protocol: startup on enter, shutdown on exit."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {message}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        if self._task is not None:
            await self._task


class Shifted:
    """A clock ``by`` ahead of ``real`` (to expire codes and tokens without waiting)."""

    def __init__(self, real: Any, by: timedelta) -> None:
        self.real, self.by = real, by

    def now(self) -> datetime:
        return self.real.now() + self.by


@dataclass
class Server:
    """The running application: ``http`` sends requests, ``ctx`` is its context."""

    settings: Settings
    ctx: ServerContext
    transport: httpx.ASGITransport
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = self.browser()

    def browser(self) -> httpx.AsyncClient:
        """A new client with its own cookie jar (one browser)."""
        return httpx.AsyncClient(transport=self.transport, base_url=ISSUER)

    async def user(self, **claims: Any) -> tuple[str, str]:
        """A new user; returns (username, password)."""
        username = "user-" + secrets.token_hex(4)
        password = secrets.token_urlsafe(12)
        claims.setdefault("email", f"{username}@example.com")
        claims.setdefault("name", "Test User")
        await create_user(self.ctx, username, password, **claims)
        return username, password

    async def register(self, **metadata: Any) -> dict[str, Any]:
        """A client registered through RFC 7591 (a confidential code-flow client unless
        ``metadata`` says otherwise)."""
        body: dict[str, Any] = {
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid profile email offline_access",
        }
        body.update(metadata)
        r = await self.http.post(
            "/register", json=body, headers={"authorization": f"Bearer {REGISTRATION_TOKEN}"}
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def authorize(
        self, browser: httpx.AsyncClient, client: Mapping[str, Any], **extra: str
    ) -> tuple[httpx.Response, str]:
        """GET /authorize with a fresh PKCE pair; returns (response, verifier)."""
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": client["redirect_uris"][0],
            "scope": "openid profile email offline_access",
            "state": "state-1",
            "nonce": "nonce-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(extra)
        query = urlencode({k: v for k, v in params.items() if v != ""})
        return await browser.get("/authorize?" + query), verifier

    async def sign_in(
        self,
        client: Mapping[str, Any],
        user: tuple[str, str],
        browser: httpx.AsyncClient | None = None,
        **extra: str,
    ) -> tuple[dict[str, str], str]:
        """Run the front channel (login and consent forms as asked) to the client's redirect;
        returns (its query parameters, the PKCE verifier)."""
        browser = browser or self.browser()
        r, verifier = await self.authorize(browser, client, prompt="consent", **extra)
        for _ in range(10):
            location = r.headers.get("location", "")
            if r.status_code in (302, 303) and location.startswith(client["redirect_uris"][0]):
                query = parse_qs(urlsplit(location).query)
                return {k: v[0] for k, v in query.items()}, verifier
            if r.status_code in (302, 303):
                r = await browser.get(urljoin(ISSUER, location))
                continue
            assert r.status_code == 200, r.text
            r = await self._submit(browser, r, user)
        raise AssertionError("the sign-in did not reach the client")

    async def _submit(
        self, browser: httpx.AsyncClient, page: httpx.Response, user: tuple[str, str]
    ) -> httpx.Response:
        form = forms_of(page.text)[0]
        data = dict(form["inputs"])
        if "password" in data:
            data.update(username=user[0], password=user[1])
        else:
            data["decision"] = "allow"
        action = urljoin(str(page.url), form["action"])
        return await browser.post(action, data=data, headers={"origin": ISSUER})

    async def code(
        self, client: Mapping[str, Any], user: tuple[str, str], **extra: str
    ) -> tuple[str, str]:
        """A fresh authorization code and its verifier."""
        params, verifier = await self.sign_in(client, user, **extra)
        return params["code"], verifier

    async def token(
        self, client: Mapping[str, Any], data: Mapping[str, str], **headers: str
    ) -> httpx.Response:
        """POST /token authenticated with the client's secret over HTTP Basic."""
        return await self.post("/token", client, data, **headers)

    async def post(
        self, path: str, client: Mapping[str, Any] | None, data: Mapping[str, str], **headers: str
    ) -> httpx.Response:
        """A form POST, with HTTP Basic for ``client`` (none when None)."""
        auth = (client["client_id"], client["client_secret"]) if client else None
        return await self.http.post(path, data=dict(data), auth=auth, headers=headers or None)

    async def exchange(
        self, client: Mapping[str, Any], code: str, verifier: str, **extra: str
    ) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client["redirect_uris"][0],
            "code_verifier": verifier,
        }
        data.update(extra)
        return await self.token(client, {k: v for k, v in data.items() if v != ""})

    async def tokens(
        self, client: Mapping[str, Any], user: tuple[str, str], **extra: str
    ) -> dict[str, Any]:
        """Tokens from a whole code flow."""
        code, verifier = await self.code(client, user, **extra)
        r = await self.exchange(client, code, verifier)
        assert r.status_code == 200, r.text
        return dict(r.json())


def in_process_settings(directory: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "database_url": f"sqlite:///{directory / 'authgate.db'}",
        "registration_token": REGISTRATION_TOKEN,
        "argon2_memory_kib": 8192,
        "argon2_time_cost": 1,
        "log_level": "warning",
        "purge_interval": 0,
        "extra_scopes": ("api:read", "api:write"),
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running(directory: Path, **overrides: Any) -> AsyncIterator[Server]:
    """The application for ``in_process_settings(directory, **overrides)``, started."""
    settings = in_process_settings(directory, **overrides)
    built: list[ServerContext] = []
    build_context = bootstrap.build_context

    async def capture(settings: Settings) -> ServerContext:
        ctx = await build_context(settings)
        built.append(ctx)
        return ctx

    app = bootstrap.create_server_app(settings)
    with mock.patch.object(bootstrap, "build_context", capture):
        lifespan = Lifespan(app)
        await lifespan.__aenter__()
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        assert built, "create_server_app no longer builds its context with bootstrap.build_context"
        server = Server(settings, built[0], transport)
        async with server.http:
            yield server
    finally:
        await lifespan.__aexit__()
