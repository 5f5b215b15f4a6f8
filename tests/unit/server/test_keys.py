"""Automatic rotation and reloading in the key maintenance loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from authgate.bootstrap import build_context
from authgate.config import Settings
from authgate.crypto.rotation import key_lifecycle
from authgate.server.keys import run_key_maintenance


async def test_due_keys_are_rotated_and_reloaded(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        key_rotation_interval=3600,
        key_announcement_period=600,
        argon2_memory_kib=8192,
        argon2_time_cost=1,
    )
    ctx = await build_context(settings)
    try:
        real = ctx.clock

        class Later:
            def now(self):  # type: ignore[no-untyped-def]
                return real.now() + timedelta(hours=2)

        ctx.clock = Later()
        turns = 0

        async def sleep(_: float) -> None:
            nonlocal turns
            turns += 1
            if turns > 2:
                raise asyncio.CancelledError

        before = ctx.keys.fingerprint
        with pytest.raises(asyncio.CancelledError):
            await run_key_maintenance(ctx, ctx.key_encryptor, sleep=sleep)
        async with ctx.storage.transaction() as tx:
            records = await tx.keys.list()
        states = key_lifecycle(records, ctx.clock.now(), timedelta(hours=1)).states
        # One new key per algorithm, announced; the second turn found them pending.
        assert sorted(states.values()).count("next") == 3
        assert len(records) == 6
        assert ctx.keys.fingerprint != before  # the announced keys are now published
    finally:
        await ctx.storage.close()


async def test_reload_survives_errors_and_reuses_loaded_keys(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'r.db'}", argon2_memory_kib=8192, argon2_time_cost=1
    )
    ctx = await build_context(settings)
    try:
        before = ctx.keys
        turns = 0

        async def sleep(_: float) -> None:
            nonlocal turns
            turns += 1
            if turns > 2:
                raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await run_key_maintenance(ctx, ctx.key_encryptor, sleep=sleep)
        # Same keys: the loaded objects are reused, not decrypted again.
        assert ctx.keys.signing_key("RS256") is before.signing_key("RS256")
        turns = 0
        calls = 0

        async def broken(*_: object) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("boom")

        import authgate.server.keys as keys_module

        original = keys_module.load_keys
        keys_module.load_keys = broken  # type: ignore[assignment]
        try:
            # The loop logs the error and goes on: only the test's cancellation ends it.
            with pytest.raises(asyncio.CancelledError):
                await run_key_maintenance(ctx, ctx.key_encryptor, sleep=sleep)
        finally:
            keys_module.load_keys = original
        assert calls == 2
        assert ctx.keys is not None
    finally:
        await ctx.storage.close()
