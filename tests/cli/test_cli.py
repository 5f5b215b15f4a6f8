"""The authgate command line, run as a subprocess exactly as operators and the conformance
suite run it: one-line errors, non-zero exit codes, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def authgate(
    tmp: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    base.update(
        {
            "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp / 'cli.db'}",
            "AUTHGATE_ARGON2_MEMORY_KIB": "8192",
            "AUTHGATE_ARGON2_TIME_COST": "1",
        }
    )
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "authgate.cli.main", *args],
        input=stdin,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_users_create_list_set_password_disable(tmp_path: Path) -> None:
    r = authgate(
        tmp_path,
        "users",
        "create",
        "Alice",
        "--password-stdin",
        "--email",
        "alice@example.com",
        "--name",
        "Alice Example",
        stdin="correct-horse-battery-staple\n",
    )
    assert r.returncode == 0, r.stderr
    assert "created user alice" in r.stdout
    again = authgate(
        tmp_path, "users", "create", "alice", "--password-stdin", stdin="another-password\n"
    )
    assert again.returncode == 1
    assert again.stderr.strip() == "authgate: a user named 'alice' already exists"
    listed = authgate(tmp_path, "users", "list")
    assert "alice\t" in listed.stdout and "alice@example.com" in listed.stdout
    assert (
        authgate(
            tmp_path,
            "users",
            "set-password",
            "alice",
            "--password-stdin",
            stdin="new-password-123\n",
        ).returncode
        == 0
    )
    assert authgate(tmp_path, "users", "disable", "alice").returncode == 0
    assert "disabled" in authgate(tmp_path, "users", "list").stdout
    # Withdrawing a consent never given is an error (the effect: protocol/test_refresh.py).
    none = authgate(tmp_path, "users", "revoke-grant", "alice", "--client", "nope")
    assert none.returncode == 1
    assert none.stderr.strip() == "authgate: alice has no grant to client 'nope'"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("users", "create", "bob"), "", "pass --password-stdin"),
        (("users", "create", "bob", "--password-stdin"), "short\n", "8 to 1024 characters"),
        (("users", "create", "bob", "--password-stdin"), "", "no password"),
        (("users", "disable", "nobody"), "", "no user named 'nobody'"),
        (("users", "revoke-grant", "nobody", "--client", "x"), "", "no user named 'nobody'"),
        (("clients", "show", "nope"), "", "no client 'nope'"),
        (
            ("clients", "create", "--name", "x", "--redirect-uri", "http://evil.example/cb"),
            "",
            "invalid_redirect_uri",
        ),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, args: tuple[str, ...], stdin: str, message: str
) -> None:
    r = authgate(tmp_path, *args, stdin=stdin)
    assert r.returncode == 1
    assert message in r.stderr
    assert r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr


def test_invalid_configuration_names_the_variable(tmp_path: Path) -> None:
    r = authgate(tmp_path, "users", "list", env={"AUTHGATE_ISSUER": "http://example.com"})
    assert r.returncode == 1
    assert "AUTHGATE_ISSUER" in r.stderr
    r = authgate(tmp_path, "users", "list", env={"AUTHGATE_CODE_TTL": "abc"})
    assert "AUTHGATE_CODE_TTL" in r.stderr


def test_clients_create_prints_secret_once(tmp_path: Path) -> None:
    r = authgate(
        tmp_path,
        "clients",
        "create",
        "--name",
        "App",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--client-id",
        "app",
    )
    assert r.returncode == 0, r.stderr
    assert '"client_secret": "agcs_' in r.stdout
    shown = authgate(tmp_path, "clients", "show", "app")
    assert '"client_secret"' not in shown.stdout
    assert "app\tApp\tclient_secret_basic" in authgate(tmp_path, "clients", "list").stdout
    assert authgate(tmp_path, "clients", "delete", "app").returncode == 0
    assert authgate(tmp_path, "clients", "show", "app").returncode == 1


def test_keys_and_db(tmp_path: Path) -> None:
    assert authgate(tmp_path, "db", "upgrade").returncode == 0
    assert authgate(tmp_path, "db", "status").stdout.strip() == "schema: current"
    listed = authgate(tmp_path, "keys", "list").stdout
    assert {"RS256", "ES256", "EdDSA"} <= {line.split("\t")[1] for line in listed.splitlines()}
    assert "plain" in listed
    gen = authgate(tmp_path, "keys", "generate", "--alg", "ES256")
    assert gen.returncode == 0 and "generated ES256 key" in gen.stdout


def test_encrypted_keys_need_the_key(tmp_path: Path) -> None:
    env = {"AUTHGATE_KEY_ENCRYPTION_KEY": "a-long-key-encryption-secret"}
    assert authgate(tmp_path, "keys", "list", env=env).returncode == 0
    assert "encrypted" in authgate(tmp_path, "keys", "list", env=env).stdout
    r = authgate(tmp_path, "keys", "list")
    assert r.returncode == 1
    assert "AUTHGATE_KEY_ENCRYPTION_KEY" in r.stderr


def test_tokens_purge(tmp_path: Path) -> None:
    r = authgate(tmp_path, "tokens", "purge")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [
        "codes=0",
        "access_tokens=0",
        "revoked_access_tokens=0",
        "refresh_tokens=0",
        "token_families=0",
        "sessions=0",
        "interactions=0",
        "throttle=0",
    ]


def test_resources(tmp_path: Path) -> None:
    r = authgate(
        tmp_path,
        "resources",
        "create",
        "urn:example:api",
        "--scope",
        "api:read",
        "--scope",
        "api:write",
        "--name",
        "API",
    )
    assert r.returncode == 0, r.stderr
    assert "created resource urn:example:api (jwt, scopes: api:read api:write)" in r.stdout
    assert (
        "urn:example:api\tjwt\t3600\tapi:read api:write\tAPI"
        in authgate(tmp_path, "resources", "list").stdout
    )
    dup = authgate(tmp_path, "resources", "create", "urn:example:api")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad = authgate(tmp_path, "resources", "create", "https://x.example/#f")
    assert bad.returncode == 1 and "invalid_target" in bad.stderr
    assert authgate(tmp_path, "resources", "delete", "urn:example:api").returncode == 0
    assert authgate(tmp_path, "resources", "delete", "urn:example:api").returncode == 1


def test_keys_rotate_announces_new_keys(tmp_path: Path) -> None:
    assert authgate(tmp_path, "keys", "list").returncode == 0
    r = authgate(tmp_path, "keys", "rotate", "--alg", "ES256", "--announce", "3600")
    assert r.returncode == 0, r.stderr
    assert "generated ES256 key" in r.stdout and "signing from" in r.stdout
    states = [
        line.split("\t")[3] for line in authgate(tmp_path, "keys", "list").stdout.splitlines()
    ]
    assert states.count("next") == 1
    assert states.count("signing") == 3
