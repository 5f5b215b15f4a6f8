"""Helpers shared by CLI commands: settings, storage, one-line errors."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from authgate.config import Settings
from authgate.server.context import ServerContext

__all__ = ["CliError", "Command", "command", "read_secret_stdin", "run", "with_context"]

T = TypeVar("T")
Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
"""A subcommand group of ``authgate``: its parsed arguments and the settings → exit status."""


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def with_context(
    settings: Settings, action: Callable[[ServerContext], Awaitable[int]]
) -> int:
    """Run an admin command against the configured server (database migrated when allowed,
    keys and secrets loaded), closing the database afterwards."""
    from authgate.bootstrap import build_context

    ctx = await build_context(settings)
    try:
        return await action(ctx)
    finally:
        await ctx.storage.close()


def command(dispatch: Callable[[ServerContext, argparse.Namespace], Awaitable[int]]) -> Command:
    """A command group whose every action runs against the configured server
    (``with_context``), dispatched on its parsed arguments."""

    async def run_command(args: argparse.Namespace, settings: Settings) -> int:
        return await with_context(settings, lambda ctx: dispatch(ctx, args))

    return run_command


def read_secret_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CliError(f"no {what} on standard input")
    return value
