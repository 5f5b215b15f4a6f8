"""Fill a migrated authgate database with live tokens, to measure the server with a large
database (issue 6: code-flow throughput with 1,000,000 live tokens within 10 % of an empty
database).

    .venv/bin/python -m bench.prefill sqlite:////tmp/authgate.db --tokens 1000000

Rows go in through the real schema (storage/sql/schema.py) in batches: one client, one user and
one grant own them, and each access token belongs to its own family, as after a code exchange,
so every access-token index (token hash, family, grant, client, expiry) holds a million
entries. Token
hashes are random like real ones, so the hash index is as scattered as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from authgate.storage.sql import create_engine, upgrade
from authgate.storage.sql.schema import access_tokens, clients, grants, users

BATCH = 20_000


async def prefill(url: str, tokens: int) -> None:
    await upgrade(url)
    engine = create_engine(url, command_timeout=None)
    now = datetime.now(UTC)
    owner = "prefill-" + secrets.token_hex(4)
    async with engine.begin() as conn:
        await conn.execute(
            insert(clients),
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
        )
        await conn.execute(
            insert(users),
            {
                "id": owner,
                "username": owner,
                "password_hash": "!",  # no password can match: not an argon2 hash
                "email_verified": False,
                "disabled": False,
                "created_at": now,
                "updated_at": now,
            },
        )
        await conn.execute(
            insert(grants),
            {
                "id": owner,
                "user_id": owner,
                "client_id": owner,
                "scopes": ("openid",),
                "created_at": now,
                "updated_at": now,
            },
        )
    started = time.perf_counter()
    done = 0
    while done < tokens:
        rows = [
            {
                "token_hash": secrets.token_hex(32),
                "client_id": owner,
                "user_id": owner,
                "grant_id": owner,
                "family_id": secrets.token_urlsafe(16),
                "scopes": ("openid",),
                "issued_at": now,
                "expires_at": now + timedelta(days=1),
                "revoked_at": None,
                "audience": None,
            }
            for _ in range(min(BATCH, tokens - done))
        ]
        async with engine.begin() as conn:
            await conn.execute(insert(access_tokens), rows)
        done += len(rows)
    await engine.dispose()
    print(f"{done} live access tokens in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(prefill(args.database_url, args.tokens))


if __name__ == "__main__":
    main()
