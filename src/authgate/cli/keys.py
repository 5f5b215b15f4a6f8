"""``authgate keys``: list, generate."""

from __future__ import annotations

import argparse
import sys

from authgate.bootstrap import build_context
from authgate.config import Settings
from authgate.crypto.keys import SUPPORTED_ALGS, KeyEncryptor, generate_key

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="manage signing keys")
    cmds = keys.add_subparsers(dest="action", required=True)
    cmds.add_parser("list", help="list signing keys (public information only)")
    gen = cmds.add_parser("generate", help="add a new signing key; it signs from the next start")
    gen.add_argument("--alg", choices=SUPPORTED_ALGS, default="RS256")


async def run_keys(args: argparse.Namespace, settings: Settings) -> int:
    ctx = await build_context(settings)
    try:
        if args.action == "generate":
            secret = settings.key_encryption_key
            encryptor = KeyEncryptor(secret.get_secret_value() if secret else None)
            record = generate_key(args.alg, ctx.clock.now(), encryptor)
            async with ctx.storage.transaction() as tx:
                await tx.keys.add(record)
            sys.stdout.write(f"generated {record.alg} key {record.kid}\n")
            return 0
        async with ctx.storage.transaction() as tx:
            records = await tx.keys.list()
        signing = {k.kid for k in ctx.keys.keys if ctx.keys.signing_key(k.alg).kid == k.kid}
        for r in records:
            role = "signing" if r.kid in signing else ("published" if r.active else "retired")
            enc = "encrypted" if r.private_jwk.startswith("enc:") else "plain"
            sys.stdout.write(f"{r.kid}\t{r.alg}\t{r.created_at.isoformat()}\t{role}\t{enc}\n")
        return 0
    finally:
        await ctx.storage.close()
