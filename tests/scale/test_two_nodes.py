"""Two server processes, one PostgreSQL database: a flow split across nodes, and parallel
redemptions of one code and one refresh token split across both: exactly one winner each.

Spec: RFC 6749 §4.1.2, §6, §10.4; RFC 7009; RFC 9700 §4.14.2.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.protocol.helpers import auth_params, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import free_port
from tests.support.postgres import create_database, drop_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
TOKEN = "two-node-registration-token"
PASSWORD = "two-node-password-1"


def _env(database_url: str, issuer: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.update(
        {
            "AUTHGATE_ISSUER": issuer,
            "AUTHGATE_DATABASE_URL": database_url,
            "AUTHGATE_REGISTRATION_TOKEN": TOKEN,
            "AUTHGATE_ARGON2_MEMORY_KIB": "8192",
            "AUTHGATE_ARGON2_TIME_COST": "1",
            "AUTHGATE_LOG_LEVEL": "warning",
        }
    )
    return env


def _wait(url: str) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


@pytest.fixture(scope="module")
def nodes(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    """Node A and node B: same issuer (the load balancer's address), same database."""
    database_url = asyncio.run(create_database(pg_admin_url))
    port_a, port_b = free_port(), free_port()
    issuer = f"http://127.0.0.1:{port_a}"
    env = _env(database_url, issuer)
    cli = [sys.executable, "-m", "authgate.cli.main"]
    subprocess.run(
        [*cli, "users", "create", "alice", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    procs = [
        subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in (port_a, port_b)
    ]
    try:
        urls = (issuer, f"http://127.0.0.1:{port_b}")
        for url in urls:
            _wait(url)
        yield urls
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        asyncio.run(drop_database(pg_admin_url, database_url))


def _client(node: str) -> dict[str, Any]:
    r = httpx.post(
        f"{node}/register",
        headers={"authorization": f"Bearer {TOKEN}"},
        json={
            "redirect_uris": ["http://127.0.0.1:9999/cb"],
            "grant_types": ["authorization_code", "refresh_token"],
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def _code(node: str, client: dict[str, Any], **extra: str) -> tuple[str, str]:
    browser = Browser(node)
    try:
        params, verifier = auth_params(client, **extra)
        return sign_in_and_consent(browser, params, ("alice", PASSWORD)).params["code"], verifier
    finally:
        browser.close()


def _token(node: str, client: dict[str, Any], **data: str) -> httpx.Response:
    return httpx.post(
        f"{node}/token", data=data, timeout=30, auth=(client["client_id"], client["client_secret"])
    )


def test_a_flow_split_across_two_nodes(nodes: tuple[str, str]) -> None:
    a, b = nodes
    client = _client(a)
    code, verifier = _code(a, client, scope="openid offline_access", prompt="consent")
    tokens = _token(
        b,
        client,
        grant_type="authorization_code",
        code=code,
        code_verifier=verifier,
        redirect_uri=client["redirect_uris"][0],
    )
    assert tokens.status_code == 200, tokens.text
    refreshed = _token(
        a, client, grant_type="refresh_token", refresh_token=tokens.json()["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access_token"]
    assert (
        httpx.get(f"{b}/userinfo", headers={"authorization": f"Bearer {access}"}).status_code == 200
    )
    revoked = httpx.post(
        f"{b}/revoke",
        data={"token": refreshed.json()["refresh_token"]},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert revoked.status_code == 200
    assert (
        httpx.get(f"{a}/userinfo", headers={"authorization": f"Bearer {access}"}).status_code == 401
    )


def _race(nodes: tuple[str, str], client: dict[str, Any], data: dict[str, str]) -> list[int]:
    def attempt(i: int) -> int:
        return _token(nodes[i % 2], client, **data).status_code

    with ThreadPoolExecutor(25) as pool:
        return list(pool.map(attempt, range(50)))


def test_50_parallel_redemptions_of_one_code_across_nodes(nodes: tuple[str, str]) -> None:
    client = _client(nodes[0])
    code, verifier = _code(nodes[0], client)
    statuses = _race(
        nodes,
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": client["redirect_uris"][0],
        },
    )
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == 49, statuses


def test_50_parallel_refreshes_of_one_token_across_nodes(nodes: tuple[str, str]) -> None:
    client = _client(nodes[0])
    code, verifier = _code(nodes[0], client, scope="openid offline_access", prompt="consent")
    refresh = _token(
        nodes[1],
        client,
        grant_type="authorization_code",
        code=code,
        code_verifier=verifier,
        redirect_uri=client["redirect_uris"][0],
    ).json()["refresh_token"]
    statuses = _race(nodes, client, {"grant_type": "refresh_token", "refresh_token": refresh})
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == 49, statuses
