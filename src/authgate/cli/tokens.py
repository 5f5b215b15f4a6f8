"""``authgate tokens purge``: delete expired codes, tokens, sessions and throttle rows now."""

from __future__ import annotations

import argparse
import sys

from authgate.cli.common import with_context
from authgate.config import Settings
from authgate.server.context import ServerContext
from authgate.server.maintenance import purge_expired

__all__ = ["add_parser", "run_tokens"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = sub.add_parser("tokens", help="token storage maintenance")
    cmds = tokens.add_subparsers(dest="action", required=True)
    purge = cmds.add_parser("purge", help="delete everything whose lifetime has ended")
    purge.add_argument("--batch", type=int, default=1000, help="rows per transaction")


async def run_tokens(args: argparse.Namespace, settings: Settings) -> int:
    async def purge(ctx: ServerContext) -> int:
        counts = await purge_expired(ctx, batch=max(1, args.batch))
        sys.stdout.write(" ".join(f"{kind}={n}" for kind, n in counts.items()) + "\n")
        return 0

    return await with_context(settings, purge)
