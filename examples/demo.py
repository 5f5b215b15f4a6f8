"""All three roles on one machine: the authorization server (authgate, SQLite), the notes web
app (a confidential client) and the notes API (a resource server).

    python -m examples.demo          # what scripts/demo runs

Ports: AUTHGATE_DEMO_PORT (default 8000) for the server, +1 for the app, +2 for the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging.config
import os
import secrets
import sys
from dataclasses import dataclass

import uvicorn

from authgate.bootstrap import build_context, create_server_app
from authgate.cli.serve import logging_config
from authgate.cli.users import change_password, create_user
from authgate.client import Client
from authgate.config import Settings
from authgate.core.models import Resource
from authgate.core.registration import validate_metadata
from authgate.server.register import create_client
from examples.notes_api import create_notes_api
from examples.notes_app import create_notes_app

CLIENT_ID = "notes-app"
RESOURCE = "urn:authgate:demo:notes"
USERNAME = "demo"


@dataclass
class Demo:
    issuer: str
    app_url: str
    api_url: str
    password: str
    servers: list[uvicorn.Server]
    app: object

    def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True


async def prepare(settings: Settings, app_url: str, password: str) -> str:
    """Demo user, resource and client (a new client secret at every start)."""
    ctx = await build_context(settings)
    try:
        async with ctx.storage.transaction() as tx:
            user = await tx.users.get_by_username(USERNAME)
            await tx.clients.delete(CLIENT_ID)
            if await tx.resources.get(RESOURCE) is None:
                await tx.resources.add(
                    Resource(RESOURCE, ("notes:read",), "jwt", 600, "Notes API", ctx.clock.now())
                )
        if user is None:
            await create_user(ctx, USERNAME, password, email="demo@example.com", name="Demo User")
        else:
            await change_password(ctx, user, password)
        metadata = validate_metadata(
            {
                "client_name": "Notes",
                "redirect_uris": [f"{app_url}/callback"],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            ctx.keys.algorithms,
        )
        _, secret = await create_client(ctx, metadata, CLIENT_ID)
        assert secret is not None  # noqa: S101 - client_secret_basic always gets one
        return secret
    finally:
        await ctx.storage.close()


def _server(app: object, port: int) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )  # type: ignore[arg-type]


async def _started(servers: list[uvicorn.Server], seconds: float = 30.0) -> None:
    # uvicorn exposes only a ``started`` flag, no event to wait on: poll it, bounded.
    for _ in range(int(seconds / 0.05)):
        if all(s.started for s in servers):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the demo servers did not start")


async def run(
    base_port: int,
    database_url: str,
    password: str,
    started: asyncio.Event | None = None,
    holder: list[Demo] | None = None,
) -> None:
    issuer = f"http://127.0.0.1:{base_port}"
    app_url, api_url = f"http://127.0.0.1:{base_port + 1}", f"http://127.0.0.1:{base_port + 2}"
    settings = Settings(issuer=issuer, database_url=database_url)
    secret = await prepare(settings, app_url, password)
    auth_server = _server(create_server_app(settings), base_port)
    tasks = [asyncio.create_task(auth_server.serve())]
    await _started([auth_server])
    client = await Client.from_issuer(issuer, CLIENT_ID, secret)
    app = create_notes_app(
        client,
        app_url=app_url,
        api_url=api_url,
        resource=RESOURCE,
        secret_key=secrets.token_urlsafe(32),
    )
    servers = [
        auth_server,
        _server(app, base_port + 1),
        _server(create_notes_api(issuer, RESOURCE), base_port + 2),
    ]
    tasks += [asyncio.create_task(s.serve()) for s in servers[1:]]
    await _started(servers)
    demo = Demo(issuer, app_url, api_url, password, servers, app)
    if holder is not None:
        holder.append(demo)
    if started is not None:
        started.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        await client.aclose()


def main() -> None:
    base = int(os.environ.get("AUTHGATE_DEMO_PORT", "8000"))
    password = os.environ.get("AUTHGATE_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    database_url = os.environ.get("AUTHGATE_DATABASE_URL", "sqlite:///./authgate-demo.db")
    sys.stdout.write(
        "\n authgate three-role demo\n ────────────────────────\n"
        f" notes app (open this)   http://127.0.0.1:{base + 1}/\n"
        f" authorization server    http://127.0.0.1:{base}  (discovery: "
        "/.well-known/openid-configuration)\n"
        f" notes API               http://127.0.0.1:{base + 2}/notes  (needs a token)\n"
        f" demo user               {USERNAME} / password {password}\n\n"
        " Open the app, sign in, allow, and your notes come from the API with your access\n"
        " token (refreshed behind the scenes). Ctrl+C stops all three.\n\n"
    )
    sys.stdout.flush()
    logging.config.dictConfig(logging_config("info"))  # audit events, like authgate serve
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(base, database_url, password))


if __name__ == "__main__":
    main()
