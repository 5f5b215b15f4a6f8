"""``authgate db``: upgrade, status."""

from __future__ import annotations

import argparse
import sys

from authgate.config import Settings
from authgate.storage.sql import schema_state, upgrade

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database schema")
    cmds = db.add_subparsers(dest="action", required=True)
    cmds.add_parser("upgrade", help="create or upgrade the schema to this version")
    cmds.add_parser("status", help="show whether the schema is current")


async def run_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "upgrade":
        state = await schema_state(settings.database_url)
        if state == "newer":
            sys.stderr.write("authgate: the database schema is newer than this version\n")
            return 1
        await upgrade(settings.database_url)
        sys.stdout.write("database schema is up to date\n")
        return 0
    state = await schema_state(settings.database_url)
    sys.stdout.write(f"schema: {state}\n")
    return 0 if state == "current" else 1
