#!/usr/bin/env bash
# Start authgate for ../shared/bench: a fresh SQLite database, the bench user, the initial access
# token from the harness's environment, one worker. The harness pins this process to one core
# and stops it by its PID (exec keeps the PID).
#   AUTHGATE_ISSUER               set by the target file (default http://127.0.0.1:9220)
#   AUTHGATE_REGISTRATION_TOKEN   set by the target file
#   BENCH_DATABASE_URL            optional: postgresql://… to benchmark PostgreSQL instead
#   BENCH_TEMPLATE_DB             optional: a SQLite file to start from (a copy is used), e.g. one
#                                 filled by `python -m bench.prefill` with a million live tokens
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
"$root/scripts/bootstrap" >/dev/null
export AUTHGATE_ISSUER="${AUTHGATE_ISSUER:-http://127.0.0.1:9220}"
# One data directory per issuer port, emptied at every start: the server is exec'd below, so
# nothing could remove a fresh temporary directory afterwards (a million-token copy is 400 MB).
if [ -n "${BENCH_DATA_DIR:-}" ]; then
  data="$BENCH_DATA_DIR"  # yours: used as it is, never emptied
else
  data="/tmp/authgate-bench-${AUTHGATE_ISSUER##*:}"
  rm -rf -- "$data"
fi
mkdir -p -- "$data"
export AUTHGATE_DATABASE_URL="${BENCH_DATABASE_URL:-sqlite:///$data/authgate.db}"
if [ -n "${BENCH_TEMPLATE_DB:-}" ] && [ -z "${BENCH_DATABASE_URL:-}" ]; then
  cp "$BENCH_TEMPLATE_DB" "$data/authgate.db"
fi
if [ -n "${BENCH_DATABASE_URL:-}" ]; then
  # A fresh PostgreSQL database of that name for every run (dropped first if it exists).
  "$root/.venv/bin/python" - "$BENCH_DATABASE_URL" <<'PY'
import asyncio
import sys
from urllib.parse import urlsplit

import asyncpg

parts = urlsplit(sys.argv[1])
name = parts.path.lstrip("/")
assert name.replace("_", "").isalnum(), "a plain database name, please"


async def recreate() -> None:
    admin = await asyncpg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, database="postgres",
    )
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()


asyncio.run(recreate())
PY
fi
export AUTHGATE_LOG_LEVEL=warning
# The harness's login scenario compares against argon2id m=64 MiB t=3 p=4 (the peer's setting).
export AUTHGATE_ARGON2_MEMORY_KIB="${AUTHGATE_ARGON2_MEMORY_KIB:-65536}"
export AUTHGATE_ARGON2_TIME_COST="${AUTHGATE_ARGON2_TIME_COST:-3}"
export AUTHGATE_ARGON2_PARALLELISM="${AUTHGATE_ARGON2_PARALLELISM:-4}"
# The load generator signs one account in from one address many times at once: throttling
# (which caps failed + in-progress attempts per account and address) is not what is measured.
export AUTHGATE_LOGIN_MAX_FAILURES=1000
export AUTHGATE_LOGIN_MAX_FAILURES_PER_IP=100000
printf '%s\n' "${BENCH_PASSWORD:-correct-horse-battery-staple}" | \
  "$root/.venv/bin/authgate" users create "${BENCH_USERNAME:-alice}" --password-stdin \
    --email alice@example.com --name "Alice Example" >/dev/null
exec "$root/.venv/bin/authgate" serve --workers 1
