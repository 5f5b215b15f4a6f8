"""``authgate serve`` started the way the conformance suite starts it: environment only,
non-interactive, several workers, stopped by its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.live import free_port


def test_serve_from_environment_with_two_workers(tmp_path: Path) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.update(
        {
            "AUTHGATE_ISSUER": issuer,
            "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "AUTHGATE_REGISTRATION_TOKEN": "serve-test-token",
            "AUTHGATE_WORKERS": "2",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "authgate.cli.main", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        meta = None
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and meta is None:
            try:
                meta = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert meta is not None, "server did not start"
        assert meta["issuer"] == issuer
        # Both workers answer with the same keys (generated once, before the workers start).
        kid_sets = {
            tuple(sorted(k["kid"] for k in httpx.get(f"{issuer}/jwks").json()["keys"]))
            for _ in range(20)
        }
        assert len(kid_sets) == 1
        r = httpx.post(
            f"{issuer}/register",
            json={"redirect_uris": ["https://a.example/cb"]},
            headers={"authorization": "Bearer serve-test-token"},
        )
        assert r.status_code == 201
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if proc.stdout:
            proc.stdout.close()


def test_serve_refuses_plain_http_public_issuer(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env.update(
        {
            "AUTHGATE_ISSUER": "http://auth.example.com",
            "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        }
    )
    r = subprocess.run(
        [sys.executable, "-m", "authgate.cli.main", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert r.returncode == 1
    assert "AUTHGATE_ISSUER" in r.stderr and "https" in r.stderr
