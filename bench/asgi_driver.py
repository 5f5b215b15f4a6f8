"""Drive the authgate ASGI application in process, without sockets, for micro-benchmarks and
profiling: the same application ``authgate serve`` runs (the route table and its dispatcher,
storage on a real SQLite file), called with hand-built ASGI messages so that what is measured
is authgate's own work per request, not HTTP parsing or a load generator.

    .venv/bin/python -m bench.asgi_driver code_flow --n 2000       # µs per operation
    .venv/bin/py-spy record -o flow.svg -- .venv/bin/python -m bench.asgi_driver code_flow

Every operation checks its answer (status and body), so a fast wrong answer fails loudly.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
import uvloop
from joserfc.jwk import KeySet
from tests.support.flow import forms_of

from authgate.bootstrap import create_server_app
from authgate.cli.users import create_user
from authgate.config import Settings
from authgate.crypto.jws import ASYMMETRIC_ALGS, verify_jwt

ISSUER = "http://127.0.0.1:9299"
REDIRECT_URI = "http://127.0.0.1:9249/cb"
PASSWORD = "correct-horse-battery-staple"
REGISTRATION_TOKEN = "bench-initial-access-token"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class AsgiDriver:
    """One application with its lifespan started; ``request`` sends one HTTP request."""

    app: Any
    _lifespan: asyncio.Task[None] | None = None
    _to_app: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    _from_app: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def start(self) -> None:
        self._lifespan = asyncio.create_task(
            self.app({"type": "lifespan"}, self._to_app.get, self._from_app.put)
        )
        await self._to_app.put({"type": "lifespan.startup"})
        message = await self._from_app.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {message}")

    async def stop(self) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._from_app.get()
        if self._lifespan is not None:
            await self._lifespan

    async def request(
        self,
        method: str,
        target: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        path, _, query = target.partition("?")
        raw_headers = [(b"host", b"127.0.0.1:9299")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 9299),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)  # a disconnect never comes while a request runs
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 0
        out_headers: dict[str, str] = {}
        cookies: list[str] = []
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message["headers"]:
                    name, value = k.decode("latin-1").lower(), v.decode("latin-1")
                    if name == "set-cookie":
                        cookies.append(value)
                    out_headers[name] = value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return Answer(status, out_headers, cookies, b"".join(chunks))


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Expected(Exception):
    """An answer the scenario did not expect: the benchmark is measuring the wrong thing."""


def _expect(answer: Answer, status: int, what: str) -> Answer:
    if answer.status != status:
        raise Expected(f"{what}: {answer.status} {answer.body[:300]!r}")
    return answer


@dataclass
class Scenario:
    """A signed-in, consented browser session, a confidential client and live tokens: the
    state of the shared harness after its warm-up."""

    driver: AsgiDriver
    settings: Settings
    client_id: str = ""
    secret: str = ""
    cookie: str = ""
    access_token: str = ""
    refresh_token: str = ""
    verification_keys: KeySet = field(default_factory=lambda: KeySet([]))

    @property
    def basic(self) -> str:
        return _basic(self.client_id, self.secret)

    async def setup(self) -> None:
        d = self.driver
        answer = await d.request(
            "POST",
            "/register",
            body=orjson.dumps(
                {
                    "redirect_uris": [REDIRECT_URI],
                    "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic",
                    "scope": "openid profile email offline_access",
                }
            ),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {REGISTRATION_TOKEN}",
            },
        )
        registered = _expect(answer, 201, "registration").json()
        self.client_id, self.secret = registered["client_id"], registered["client_secret"]
        jwks = _expect(await d.request("GET", "/jwks"), 200, "jwks").json()
        self.verification_keys = KeySet.import_key_set(jwks)
        tokens = await self._sign_in()
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]

    async def _sign_in(self) -> dict[str, Any]:
        """The browser's first visit: login form, consent form (with offline_access)."""
        d = self.driver
        verifier, challenge = _pkce()
        url = "/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": "openid profile email offline_access",
                "state": "s",
                "nonce": "n",
                "prompt": "consent",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        jar: dict[str, str] = {}
        answer = await d.request("GET", url)
        for _ in range(8):
            for raw in answer.cookies:
                parsed: SimpleCookie = SimpleCookie()
                parsed.load(raw)
                jar.update({k: m.value for k, m in parsed.items()})
            cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
            location = answer.headers.get("location", "")
            if answer.status in (302, 303) and location.startswith(REDIRECT_URI):
                self.cookie = cookie
                code = parse_qs(urlsplit(location).query)["code"][0]
                return await self._redeem(code, verifier)
            if answer.status in (302, 303):
                target = urlsplit(location)
                answer = await d.request(
                    "GET",
                    target.path + ("?" + target.query if target.query else ""),
                    headers={"cookie": cookie},
                )
                continue
            form = forms_of(answer.body.decode())[0]
            fields = dict(form["inputs"])
            if "password" in fields:
                fields.update(username="alice", password=PASSWORD)
            else:
                fields.update(dict(b for b in form["buttons"] if b[1] in ("allow", "accept")))
            answer = await d.request(
                "POST",
                urlsplit(form["action"]).path,
                body=urlencode(fields).encode(),
                headers={
                    "cookie": cookie,
                    "content-type": "application/x-www-form-urlencoded",
                    "origin": ISSUER,
                },
            )
        raise Expected(f"sign-in did not reach the client: {answer.status}")

    async def _redeem(self, code: str, verifier: str) -> dict[str, Any]:
        answer = await self.driver.request(
            "POST",
            "/token",
            body=urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                }
            ).encode(),
            headers={
                "authorization": self.basic,
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        return dict(_expect(answer, 200, "code exchange").json())

    # -- operations, one per scenario of the shared harness ---------------------------------

    async def code_flow(self) -> None:
        """Authorize with the signed-in, consented session, then exchange the code."""
        verifier, challenge = _pkce()
        nonce = secrets.token_urlsafe(12)
        url = "/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT_URI,
                "scope": "openid profile email",
                "state": "st",
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        answer = await self.driver.request("GET", url, headers={"cookie": self.cookie})
        location = answer.headers.get("location", "")
        if answer.status not in (302, 303) or not location.startswith(REDIRECT_URI):
            raise Expected(f"authorize: {answer.status} {location[:200]}")
        code = parse_qs(urlsplit(location).query)["code"][0]
        tokens = await self._redeem(code, verifier)
        keys = self.verification_keys
        _, claims = verify_jwt(
            tokens["id_token"], lambda h: keys.get_by_kid(h["kid"]), ASYMMETRIC_ALGS
        )
        if claims.get("nonce") != nonce:
            raise Expected("the ID token's nonce is not the request's")

    async def refresh(self) -> None:
        answer = await self.driver.request(
            "POST",
            "/token",
            body=urlencode(
                {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
            ).encode(),
            headers={
                "authorization": self.basic,
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        self.refresh_token = _expect(answer, 200, "refresh").json()["refresh_token"]

    async def client_credentials(self) -> None:
        answer = await self.driver.request(
            "POST",
            "/token",
            body=b"grant_type=client_credentials",
            headers={
                "authorization": self.basic,
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        _expect(answer, 200, "client_credentials")

    async def introspection(self) -> None:
        answer = await self.driver.request(
            "POST",
            "/introspect",
            body=urlencode({"token": self.access_token}).encode(),
            headers={
                "authorization": self.basic,
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        if not _expect(answer, 200, "introspection").json().get("active"):
            raise Expected("introspection: the token is not active")

    async def userinfo(self) -> None:
        answer = await self.driver.request(
            "GET", "/userinfo", headers={"authorization": f"Bearer {self.access_token}"}
        )
        if "sub" not in _expect(answer, 200, "userinfo").json():
            raise Expected("userinfo: no sub")


OPERATIONS = ("code_flow", "refresh", "client_credentials", "introspection", "userinfo")


def bench_settings(directory: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "database_url": f"sqlite:///{directory / 'authgate.db'}",
        "registration_token": REGISTRATION_TOKEN,
        "argon2_memory_kib": 8192,
        "argon2_time_cost": 1,
        "log_level": "warning",
        "purge_interval": 0,
    }
    values.update(overrides)
    return Settings(**values)


async def open_scenario(settings: Settings) -> Scenario:
    """Start the application for ``settings``, create the bench user, sign in."""
    driver = AsgiDriver(create_server_app(settings))
    await driver.start()
    ctx = driver.app.app.ctx  # SecurityHeaders -> Dispatcher -> the built context
    await create_user(ctx, "alice", PASSWORD, email="alice@example.com", name="Alice Example")
    scenario = Scenario(driver, settings)
    await scenario.setup()
    return scenario


async def _measure(operation: Callable[[], Awaitable[None]], n: int) -> float:
    for _ in range(min(200, n)):
        await operation()
    start = time.perf_counter()
    for _ in range(n):
        await operation()
    return (time.perf_counter() - start) / n * 1e6


async def _main(names: list[str], n: int, database_url: str | None, alg: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, Any] = {"id_token_signing_alg": alg}
        if database_url:
            overrides["database_url"] = database_url
        scenario = await open_scenario(bench_settings(Path(tmp), **overrides))
        try:
            for name in names:
                micros = await _measure(getattr(scenario, name), n)
                print(f"{name:20s} {micros:8.1f} µs/op  ({1e6 / micros:8.0f} op/s, one core)")
        finally:
            await scenario.driver.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="*", metavar="OPERATION", help=", ".join(OPERATIONS))
    parser.add_argument("--n", type=int, default=2000, help="operations per scenario")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--alg", default="RS256", help="ID token signing algorithm")
    args = parser.parse_args()
    # uvloop, as ``authgate serve`` runs: the standard loop's Python costs several times more
    # per wake-up, which inflated every await on a PostgreSQL round trip.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_main(args.operations or list(OPERATIONS), args.n, args.database_url, args.alg))


if __name__ == "__main__":
    main()
