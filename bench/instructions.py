"""Instructions per operation, counted by valgrind (callgrind): a deterministic A/B measure.

Under the shared harness one run varies by ±10-15 % on this machine, so a change worth 2 %
cannot be seen there. Instruction counts do not vary with the machine's load: this runs
``bench.asgi_driver`` under ``valgrind --tool=callgrind`` twice per operation, with a short
and a long run, and divides the difference by the difference in operations, so start-up
(imports, the bench user's argon2id hash, the sign-in) cancels out. RSA key generation at
start-up is random (its prime search varies by hundreds of millions of instructions), so its
inclusive cost is subtracted from each run first.

Instructions are not time: an RSA signature's vector code does much work per instruction and
the interpreter little. Compare the same operation across two versions of the code, not
operations with each other::

    .venv/bin/python -m bench.instructions code_flow refresh
    .venv/bin/python -m bench.instructions code_flow --source /path/to/other/checkout

Needs Debian's ``valgrind`` (``callgrind_annotate`` comes with it). About a minute per
operation, the two runs in parallel.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
_KEYGEN = "generate_private_key"
_LINE = re.compile(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)$")


def _warm_up(n: int) -> int:
    """Operations ``asgi_driver`` runs before measuring ``n`` (see ``_measure`` there)."""
    return min(200, n)


def _annotate(out_file: Path, *options: str) -> list[tuple[int, str]]:
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", *options, str(out_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            rows.append((int(match.group(1).replace(",", "")), match.group(2)))
    return rows


def _by_object(out_file: Path) -> tuple[int, Counter[str]]:
    """Instructions of the run less RSA key generation, and self cost by shared object."""
    rows = _annotate(out_file)
    total = next(n for n, what in rows if "PROGRAM TOTALS" in what)
    keygen = max(
        (n for n, what in _annotate(out_file, "--inclusive=yes") if _KEYGEN in what), default=0
    )
    objects: Counter[str] = Counter()
    for n, what in rows:
        if "PROGRAM TOTALS" in what:
            continue
        found = re.search(r"\[([^\]]+)\]\s*$", what)
        objects[found.group(1).rsplit("/", 1)[-1] if found else "other"] += n
    # Key generation runs in cryptography's extension, which links OpenSSL in.
    for name in objects:
        if name.startswith("_rust"):
            objects[name] -= keygen
    return total - keygen, objects


def _fresh_database(url: str, n: int) -> str:
    """A new, empty PostgreSQL database for one run, named after ``url``'s and ``n``."""
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{n}"
    if not name.replace("_", "").isalnum():
        raise SystemExit("--database-url: a plain database name, please")

    async def recreate() -> None:
        admin = await asyncpg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            database="postgres",
        )
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()

    asyncio.run(recreate())
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run(
    source: Path, operation: str, n: int, alg: str, out_dir: Path, database_url: str | None
) -> Path:
    out_file = out_dir / f"callgrind.{operation}.{n}"
    if database_url:
        database_url = _fresh_database(database_url, n)
    env = dict(os.environ, PYTHONPATH=f"{source / 'src'}{os.pathsep}{source}")
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out_file}",
            sys.executable,
            "-m",
            "bench.asgi_driver",
            operation,
            "--n",
            str(n),
            "--alg",
            alg,
            *(["--database-url", database_url] if database_url else []),
        ],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    return out_file


def measure(
    source: Path, operation: str, small: int, large: int, alg: str, database_url: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        short, long = pool.map(
            lambda n: _run(source, operation, n, alg, Path(tmp), database_url), (small, large)
        )
        (short_total, short_objects), (long_total, long_objects) = map(_by_object, (short, long))
    operations = (large + _warm_up(large)) - (small + _warm_up(small))
    per_op = (long_total - short_total) / operations
    print(f"{operation}: {per_op / 1e6:.3f} M instructions per operation ({source})")
    deltas = {k: (long_objects[k] - short_objects[k]) / operations for k in long_objects}
    for name, value in sorted(deltas.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {value / 1e3:10.1f} K  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="+", help="operations of bench.asgi_driver")
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--small", type=int, default=200, help="operations of the short run")
    parser.add_argument("--large", type=int, default=600, help="operations of the long run")
    parser.add_argument("--alg", default="RS256", help="ID token signing algorithm")
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file per run. With postgresql://…/NAME, each run gets a "
        "fresh database NAME_<n> (dropped first if it exists); the client side of each round "
        "trip is counted, the database server's work is not",
    )
    args = parser.parse_args()
    if args.large <= args.small:
        parser.error("--large must be greater than --small")
    for operation in args.operations:
        measure(
            args.source.resolve(), operation, args.small, args.large, args.alg, args.database_url
        )


if __name__ == "__main__":
    main()
