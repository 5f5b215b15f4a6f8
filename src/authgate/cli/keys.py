"""``authgate keys``: list, rotate, generate."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from authgate.cli.common import with_context
from authgate.config import Settings
from authgate.crypto.keys import SUPPORTED_ALGS
from authgate.crypto.rotation import key_lifecycle
from authgate.server.context import ServerContext
from authgate.server.keys import rotate_keys, token_retention

__all__ = ["add_parser", "run_keys"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="manage signing keys")
    cmds = keys.add_subparsers(dest="action", required=True)
    cmds.add_parser("list", help="list signing keys and their state (public information only)")
    rotate = cmds.add_parser(
        "rotate",
        help="add new signing keys, published now and signing after the announcement period",
    )
    rotate.add_argument(
        "--alg",
        choices=SUPPORTED_ALGS,
        action="append",
        dest="algs",
        help="algorithm to rotate (repeatable; default: all)",
    )
    rotate.add_argument(
        "--announce",
        type=int,
        metavar="SECONDS",
        help="announcement period (default: AUTHGATE_KEY_ANNOUNCEMENT_PERIOD)",
    )
    gen = cmds.add_parser("generate", help="add a signing key that signs at once")
    gen.add_argument("--alg", choices=SUPPORTED_ALGS, default="RS256")


async def run_keys(args: argparse.Namespace, settings: Settings) -> int:
    async def act(ctx: ServerContext) -> int:
        out = sys.stdout
        now = ctx.clock.now()
        if args.action in ("rotate", "generate"):
            if args.action == "generate":
                algs, announce = (args.alg,), 0
            else:
                algs = tuple(args.algs or SUPPORTED_ALGS)
                announce = (
                    settings.key_announcement_period
                    if args.announce is None
                    else max(0, args.announce)
                )
            records = await rotate_keys(
                ctx.storage, ctx.key_encryptor, algs, now, timedelta(seconds=announce)
            )
            for r in records:
                out.write(
                    f"generated {r.alg} key {r.kid}, signing from {r.signs_from.isoformat()}\n"
                )
            return 0
        async with ctx.storage.transaction() as tx:
            records = await tx.keys.list()
            retention = await token_retention(settings, tx)
        states = key_lifecycle(records, now, retention).states
        for r in records:
            enc = "encrypted" if r.private_jwk.startswith("enc:") else "plain"
            out.write(f"{r.kid}\t{r.alg}\t{r.signs_from.isoformat()}\t{states[r.kid]}\t{enc}\n")
        return 0

    return await with_context(settings, act)
