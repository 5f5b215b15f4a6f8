"""PostgreSQL for tests: find the server, create and drop uniquely named databases.

Unreachable PostgreSQL skips the tests locally, and fails them under ``CI=true``: CI must never
pass by silently skipping them.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest
from sqlalchemy import make_url

# The maintenance databases tried in turn, unless AUTHGATE_TEST_POSTGRES_URL names one.
DEFAULT_ADMIN_URLS = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://postgres@127.0.0.1:5432/test",
)


def admin_urls() -> tuple[str, ...]:
    configured = os.environ.get("AUTHGATE_TEST_POSTGRES_URL")
    if not configured:
        return DEFAULT_ADMIN_URLS
    # asyncpg takes a plain libpq-style URL.
    return (configured.replace("postgresql+asyncpg://", "postgresql://", 1),)


async def admin_execute(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=3)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(admin_url: str) -> str:
    """A new, empty, uniquely named database; returns its URL."""
    name = f"authgate_test_{uuid.uuid4().hex[:12]}"
    await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def find_admin_url() -> str:
    """The first maintenance database URL whose server answers (skip, or fail in CI)."""
    problems: list[str] = []
    for url in admin_urls():
        try:
            asyncio.run(admin_execute(url, "SELECT 1"))
        except (OSError, asyncpg.PostgresError) as exc:
            problems.append(f"{make_url(url)!r}: {exc}")
        else:
            return url
    message = "PostgreSQL unreachable: " + "; ".join(problems)
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
