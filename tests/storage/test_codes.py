"""Authorization codes: single use, replay detection, expiry (RFC 6749 §4.1.2, §10.5)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from authgate.core.models import TokenHash
from authgate.storage.base import Consumed, DuplicateError, Replayed
from authgate.storage.sql import SqlStorage

from . import factories as f
from .factories import Seed


async def _add_code(storage: SqlStorage, now: datetime, **fields: Any) -> TokenHash:
    code = f.code(now, **fields)
    async with storage.transaction() as tx:
        await tx.codes.add(code)
    return code.code_hash


async def _consume(storage: SqlStorage, code_hash: TokenHash, now: datetime) -> object:
    async with storage.transaction() as tx:
        return await tx.codes.consume(code_hash, now)


async def test_consume_returns_the_stored_code_marked_consumed(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    code = f.code(now, nonce=None, redirect_uri_provided=False)
    async with storage.transaction() as tx:
        await tx.codes.add(code)

    result = await _consume(storage, code.code_hash, now + timedelta(seconds=5))

    consumed = dataclasses.replace(code, consumed_at=now + timedelta(seconds=5))
    assert result == Consumed(consumed, seeded.grant.id, 0)


async def test_second_consume_is_a_replay_rfc6749_4_1_2(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    code_hash = await _add_code(storage, now)
    first = await _consume(storage, code_hash, now)

    second = await _consume(storage, code_hash, now + timedelta(seconds=1))

    assert isinstance(first, Consumed)
    assert second == Replayed(first.code)


async def test_replay_is_reported_even_after_expiry(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    code_hash = await _add_code(storage, now)
    await _consume(storage, code_hash, now)

    later = await _consume(storage, code_hash, now + timedelta(days=1))

    assert isinstance(later, Replayed)
    assert later.code.consumed_at == now


@pytest.mark.parametrize("age", [timedelta(minutes=1), timedelta(minutes=5)])
async def test_expired_code_is_not_consumed(
    storage: SqlStorage, seeded: Seed, now: datetime, age: timedelta
) -> None:
    """Expiry is exclusive: at ``expires_at`` the code is already dead."""
    code_hash = await _add_code(storage, now, expires_at=now + timedelta(minutes=1))

    assert await _consume(storage, code_hash, now + age) is None
    # Still unconsumed, so a later attempt is not mistaken for a replay either.
    assert await _consume(storage, code_hash, now + age) is None


async def test_unknown_code_is_none(storage: SqlStorage, seeded: Seed, now: datetime) -> None:
    assert await _consume(storage, TokenHash("unknown"), now) is None


async def test_duplicate_code_hash_is_rejected(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    await _add_code(storage, now)
    with pytest.raises(DuplicateError):
        await _add_code(storage, now, family_id="family-2")


async def test_exactly_one_of_20_concurrent_consumes_wins(
    storage: SqlStorage, seeded: Seed, now: datetime
) -> None:
    """Each attempt is its own transaction, as concurrent token requests would be."""
    code_hash = await _add_code(storage, now)

    results = await asyncio.gather(*(_consume(storage, code_hash, now) for _ in range(20)))

    consumed = [r for r in results if isinstance(r, Consumed)]
    replayed = [r for r in results if isinstance(r, Replayed)]
    assert len(consumed) == 1
    assert len(replayed) == 19
    assert all(r.code == consumed[0].code for r in replayed)
