"""Fixtures for the micro-benchmarks: one running application (in process, SQLite file) in the
state of the shared harness after its warm-up, and an event loop to drive it from the
synchronous functions pytest-benchmark times."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.asgi_driver import Scenario, bench_settings, open_scenario


@pytest.fixture(scope="session")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def scenario(
    loop: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    settings = bench_settings(Path(tmp_path_factory.mktemp("bench")))
    scenario = loop.run_until_complete(open_scenario(settings))
    yield scenario
    loop.run_until_complete(scenario.driver.stop())


@pytest.fixture
def run(
    loop: asyncio.AbstractEventLoop,
) -> Callable[[Callable[[], Coroutine[Any, Any, None]]], Any]:
    """``run(op)``: a synchronous callable that runs one operation to completion."""

    def wrap(op: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
        return lambda: loop.run_until_complete(op())

    return wrap
