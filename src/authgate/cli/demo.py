"""``authgate demo``: the server on SQLite with a demo user and a demo client, and a callback
page that shows the code and the curl command that exchanges it.

Everything is printed once to the terminal; the demo password and client secret are generated
at each start (nothing fixed is ever committed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import os
import secrets
import sys
from dataclasses import dataclass
from urllib.parse import urlencode

import uvicorn

from authgate.bootstrap import build_context, create_server_app
from authgate.cli.serve import PROTOCOL, logging_config
from authgate.cli.users import change_password, create_user
from authgate.config import Settings, load_settings
from authgate.core.pkce import s256_challenge
from authgate.core.registration import validate_metadata
from authgate.server.context import ServerContext
from authgate.server.http import HttpRequest, PageResponse
from authgate.server.register import create_client
from authgate.web.routes import Page, Route

__all__ = ["add_parser", "run_demo"]

DEMO_USER = "demo"
DEMO_CLIENT = "demo-app"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run the server with a demo user and client")
    demo.add_argument("--port", type=int, default=8000)


@dataclass(frozen=True)
class DemoSetup:
    password: str
    client_secret: str
    verifier: str
    state: str
    nonce: str


async def _prepare(settings: Settings) -> DemoSetup:
    ctx = await build_context(settings)
    try:
        password = os.environ.get("AUTHGATE_DEMO_PASSWORD") or secrets.token_urlsafe(9)
        async with ctx.storage.transaction() as tx:
            existing = await tx.users.get_by_username(DEMO_USER)
            await tx.clients.delete(DEMO_CLIENT)
        if existing is None:
            await create_user(ctx, DEMO_USER, password, email="demo@example.com", name="Demo User")
        else:
            await change_password(ctx, existing, password)
        metadata = validate_metadata(
            {
                "client_name": "authgate demo app",
                "redirect_uris": [f"{settings.base_url}/demo/callback"],
                "token_endpoint_auth_method": "client_secret_basic",
                "scope": "openid profile email",
            },
            ctx.keys.algorithms,
        )
        _, secret = await create_client(ctx, metadata, DEMO_CLIENT)
        assert secret is not None  # noqa: S101 - client_secret_basic always gets a secret
    finally:
        await ctx.storage.close()
    return DemoSetup(
        password,
        secret,
        secrets.token_urlsafe(48),
        secrets.token_urlsafe(12),
        secrets.token_urlsafe(12),
    )


def _authorization_url(settings: Settings, setup: DemoSetup) -> str:
    return f"{settings.base_url}/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": DEMO_CLIENT,
            "redirect_uri": f"{settings.base_url}/demo/callback",
            "scope": "openid profile email",
            "state": setup.state,
            "nonce": setup.nonce,
            "code_challenge": s256_challenge(setup.verifier),
            "code_challenge_method": "S256",
        }
    )


def _curl(settings: Settings, setup: DemoSetup, code: str) -> str:
    return (
        f"curl -s -u {DEMO_CLIENT}:$DEMO_CLIENT_SECRET {settings.base_url}/token \\\n"
        f"  -d grant_type=authorization_code -d code={code} \\\n"
        f"  -d redirect_uri={settings.base_url}/demo/callback \\\n"
        f"  -d code_verifier={setup.verifier}"
    )


def _callback_route(settings: Settings, setup: DemoSetup) -> Route:
    """The demo client's redirect URI: a page with the code and the curl that redeems it."""

    async def callback(ctx: ServerContext, request: HttpRequest) -> PageResponse:
        params = request.query_params().data
        context: dict[str, object]
        if "error" in params:
            context = {"error": params["error"], "description": params.get("error_description", "")}
        else:
            context = {
                "state_ok": secrets.compare_digest(params.get("state", ""), setup.state),
                "iss": params.get("iss", ""),
                "code_ttl": settings.code_ttl,
                "curl": _curl(settings, setup, params.get("code", "")),
            }
        return PageResponse("demo_callback.html", context)

    return Route(("GET", "HEAD"), "/demo/callback", Page(callback))


def run_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("AUTHGATE_ISSUER", f"http://127.0.0.1:{args.port}")
    os.environ.setdefault("AUTHGATE_DATABASE_URL", "sqlite:///./authgate-demo.db")
    settings = load_settings()
    log_config = logging_config("info")
    logging.config.dictConfig(log_config)
    setup = asyncio.run(_prepare(settings))
    out = sys.stdout
    out.write(
        "\n authgate demo\n ─────────────\n"
        f" issuer          {settings.issuer}\n"
        f" discovery       {settings.base_url}/.well-known/openid-configuration\n"
        f" demo user       {DEMO_USER} / password {setup.password}\n"
        f" demo client     {DEMO_CLIENT} (client_secret_basic)\n"
        f" client secret   export DEMO_CLIENT_SECRET={setup.client_secret}\n\n"
        " Open this URL in a browser, sign in, allow, then run the curl command shown:\n\n"
        f"   {_authorization_url(settings, setup)}\n\n"
        " Press Ctrl+C to stop.\n\n"
    )
    out.flush()
    app = create_server_app(settings, extra_routes=[_callback_route(settings, setup)])
    uvicorn.run(
        app,
        host=settings.listen_host,
        port=settings.listen_port,
        log_level="info",
        log_config=log_config,
        **PROTOCOL,
    )
    return 0
