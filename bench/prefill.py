"""Fill a migrated authgate database with live tokens, to measure the server with a large
database (issue 6: code-flow throughput with 1,000,000 live tokens within 10 % of an empty
database).

    .venv/bin/python -m bench.prefill sqlite:////tmp/authgate.db --tokens 1000000

Rows go in through the real schema (storage/sql/schema.py) in batches: one client, one user and
one grant own them. Access tokens are sealed and have no rows (design note 0009), so what a
live token leaves in the database is what a code exchange with ``offline_access`` writes: a
token family and its refresh token. ``--tokens N`` makes N of each, so the family table
(which every use of a sealed access token reads) and the refresh token table (which every
refresh reads and writes) hold a million rows. Hashes and family ids are random, so their
indexes are as scattered as the worst case in production. ``--access-rows`` adds as many
access-token rows as well (the form before sealing, and JWT access tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, insert

from authgate.storage.sql import run_on_connection, upgrade
from authgate.storage.sql.schema import (
    access_tokens,
    clients,
    grants,
    refresh_tokens,
    token_families,
    users,
)

BATCH = 20_000


def _inserting(*rows: tuple[Table, Any]) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        for table, values in rows:
            conn.execute(insert(table), values)

    return work


async def prefill(url: str, tokens: int, access_rows: bool = False) -> None:
    await upgrade(url)
    now = datetime.now(UTC)
    owner = "prefill-" + secrets.token_hex(4)
    owners = _inserting(
        (
            clients,
            {
                "client_id": owner,
                "redirect_uris": ("https://prefill.example/cb",),
                "token_endpoint_auth_method": "none",
                "grant_types": ("authorization_code",),
                "response_types": ("code",),
                "application_type": "web",
                "post_logout_redirect_uris": (),
                "metadata": {},
                "created_at": now,
            },
        ),
        (
            users,
            {
                "id": owner,
                "username": owner,
                "password_hash": "!",  # no password can match: not an argon2 hash
                "email_verified": False,
                "disabled": False,
                "created_at": now,
                "updated_at": now,
            },
        ),
        (
            grants,
            {
                "id": owner,
                "user_id": owner,
                "client_id": owner,
                "scopes": ("openid",),
                "created_at": now,
                "updated_at": now,
            },
        ),
    )
    await run_on_connection(url, owners, command_timeout=None)
    started = time.perf_counter()
    done = 0
    while done < tokens:
        count = min(BATCH, tokens - done)
        families = [secrets.token_hex(16) for _ in range(count)]
        family_rows = [
            {
                "family_id": family,
                "grant_id": owner,
                "client_id": owner,
                "user_id": owner,
                "revoked_at": None,
                "expires_at": now + timedelta(days=30),
            }
            for family in families
        ]
        refresh_rows = [
            {
                "token_hash": secrets.token_hex(32),
                "family_id": family,
                "client_id": owner,
                "user_id": owner,
                "grant_id": owner,
                "scopes": ("openid", "offline_access"),
                "auth_time": now,
                "issued_at": now,
                "expires_at": now + timedelta(days=14),
                "family_expires_at": now + timedelta(days=30),
                "rotated_at": None,
                "revoked_at": None,
                "resource": None,
            }
            for family in families
        ]
        batch: list[tuple[Table, Any]] = [
            (token_families, family_rows),
            (refresh_tokens, refresh_rows),
        ]
        if access_rows:
            batch.append(
                (
                    access_tokens,
                    [
                        {
                            "token_hash": secrets.token_hex(32),
                            "client_id": owner,
                            "user_id": owner,
                            "grant_id": owner,
                            "family_id": family,
                            "scopes": ("openid",),
                            "issued_at": now,
                            "expires_at": now + timedelta(days=1),
                            "revoked_at": None,
                            "audience": None,
                        }
                        for family in families
                    ],
                )
            )
        await run_on_connection(url, _inserting(*batch), command_timeout=None)
        done += count
    kinds = "families and refresh tokens" + (" and access-token rows" if access_rows else "")
    print(f"{done} live {kinds} in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--access-rows", action="store_true", help="also as many access-token rows")
    args = parser.parse_args()
    asyncio.run(prefill(args.database_url, args.tokens, args.access_rows))


if __name__ == "__main__":
    main()
