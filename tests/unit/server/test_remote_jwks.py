"""The jwks_uri fetcher: one fetch per URL at a time, failures remembered, overall deadline,
and no fetch at all for non-public URLs. Spec: OIDC Core §10.1.1, §16; RFC 9700 §4."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from authgate.server.remote_jwks import RemoteJwksError, RemoteJwksFetcher

URL = "https://keys.example.com/jwks"


class Counting(RemoteJwksFetcher):
    def __init__(self, outcome: Any, delay: float = 0.05, timeout: float = 3.0) -> None:
        super().__init__(timeout_seconds=timeout)
        self.calls = 0
        self.outcome = outcome
        self.delay = delay

    async def _fetch(self, url: str) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return dict(self.outcome)


async def test_concurrent_requests_share_one_fetch() -> None:
    fetcher = Counting({"keys": []})
    results = await asyncio.gather(*(fetcher.get(URL) for _ in range(20)))
    assert fetcher.calls == 1
    assert all(r == {"keys": []} for r in results)
    assert fetcher.cached(URL) == {"keys": []}


async def test_failures_are_remembered() -> None:
    fetcher = Counting(RemoteJwksError("down"))
    for _ in range(5):
        with pytest.raises(RemoteJwksError):
            await fetcher.get(URL)
    assert fetcher.calls == 1


async def test_forced_refresh_is_rate_limited() -> None:
    fetcher = Counting({"keys": []})
    await fetcher.get(URL)
    await fetcher.get(URL, refresh=True)
    assert fetcher.calls == 1


async def test_overall_deadline() -> None:
    fetcher = Counting({"keys": []}, delay=5, timeout=0.05)
    with pytest.raises(RemoteJwksError, match="too long"):
        await fetcher.get(URL)


@pytest.mark.parametrize(
    "url",
    [
        "http://keys.example.com/jwks",
        "https://127.0.0.1/jwks",
        "https://10.1/jwks",
        "https://localhost/jwks",
    ],
)
async def test_non_public_urls_are_never_fetched(url: str) -> None:
    with pytest.raises(RemoteJwksError):
        await RemoteJwksFetcher().get(url)
