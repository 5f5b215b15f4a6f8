"""``authgate serve``: run the server under uvicorn (uvloop + httptools, one write per
response: ``authgate.web.http_protocol``), N workers."""

from __future__ import annotations

import argparse
import copy
import logging
import logging.config
import os
from typing import Any

import uvicorn
import uvicorn.config

from authgate.bootstrap import build_context
from authgate.cli.common import run
from authgate.config import Settings
from authgate.web.http_protocol import HttpProtocol

__all__ = ["PROTOCOL", "add_parser", "serve"]

PROTOCOL: dict[str, Any] = {
    "loop": "uvloop",
    "http": HttpProtocol,  # httptools, head and body in one write
    "access_log": False,
    "server_header": False,
    "proxy_headers": False,  # X-Forwarded-For is read only when AUTHGATE_TRUST_FORWARDED_FOR
}
"""The uvicorn protocol options of every authgate server: ``serve``, ``demo`` and the live
test server (``tests/support/live.py``) run the same."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the authorization server")
    serve.add_argument("--host", help="listen address (default: from the issuer)")
    serve.add_argument("--port", type=int, help="listen port (default: from the issuer)")
    serve.add_argument("--workers", type=int, help="number of worker processes")
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="allow an http issuer on a non-loopback host (development only)",
    )


def logging_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus the ``authgate`` loggers at ``level``; uvicorn
    applies it in every worker process, where the parent's logging setup does not reach."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["authgate"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["handlers"]["authgate"] = {
        "class": "logging.StreamHandler",
        "formatter": "authgate",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["authgate"] = {
        "handlers": ["authgate"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def overrides(args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("host", "port", "workers"):
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    if getattr(args, "insecure", False):
        out["insecure"] = True
    return out


async def _prepare(settings: Settings) -> None:
    # Migrate and create keys once, before workers start, so every worker loads the same keys.
    ctx = await build_context(settings)
    await ctx.storage.close()


def serve(settings: Settings) -> int:
    log_config = logging_config(settings.log_level)
    logging.config.dictConfig(log_config)
    run(_prepare(settings))
    if settings.key_encryption_key is None:
        logging.getLogger("authgate").warning(
            "signing keys are stored unencrypted: set AUTHGATE_KEY_ENCRYPTION_KEY"
        )
    # Workers rebuild Settings from the environment: pass the command-line overrides on.
    for name in ("host", "port", "workers", "insecure"):
        value = getattr(settings, name)
        if value is not None:
            os.environ[f"AUTHGATE_{name.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    logging.getLogger("authgate").info(
        "authgate %s listening on http://%s:%d (%d worker%s)",
        settings.issuer,
        settings.listen_host,
        settings.listen_port,
        settings.workers,
        "" if settings.workers == 1 else "s",
    )
    uvicorn.run(
        "authgate.bootstrap:app_factory",
        factory=True,
        host=settings.listen_host,
        port=settings.listen_port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=log_config,
        timeout_graceful_shutdown=20,
        **PROTOCOL,
    )
    return 0
