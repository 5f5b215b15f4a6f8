"""Helpers shared by CLI commands: settings, storage, one-line errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from authgate.config import Settings
from authgate.storage.base import Storage

__all__ = ["CliError", "read_secret_stdin", "run", "storage_for"]

T = TypeVar("T")


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@asynccontextmanager
async def storage_for(settings: Settings):  # type: ignore[no-untyped-def]
    """Open (and migrate, when allowed) the configured database for a CLI command."""
    from authgate.bootstrap import prepare_database
    from authgate.storage.sql.repositories import open_storage

    await prepare_database(settings)
    storage: Storage = await open_storage(settings.database_url)
    try:
        yield storage
    finally:
        await storage.close()


def read_secret_stdin(what: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CliError(f"no {what} on standard input")
    return value


Handler = Callable[[Any, Settings], Awaitable[int] | int]
