"""Helpers shared by CLI commands: settings, storage, one-line errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from authgate.config import Settings
from authgate.server.context import ServerContext

__all__ = ["CliError", "read_secret_stdin", "run", "with_context"]

T = TypeVar("T")


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


def read_secret_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CliError(f"no {what} on standard input")
    return value
