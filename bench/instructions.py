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
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def _run(source: Path, operation: str, n: int, alg: str, out_dir: Path) -> Path:
    out_file = out_dir / f"callgrind.{operation}.{n}"
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
        ],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    return out_file


def measure(source: Path, operation: str, small: int, large: int, alg: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        short, long = pool.map(lambda n: _run(source, operation, n, alg, Path(tmp)), (small, large))
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
    args = parser.parse_args()
    if args.large <= args.small:
        parser.error("--large must be greater than --small")
    for operation in args.operations:
        measure(args.source.resolve(), operation, args.small, args.large, args.alg)


if __name__ == "__main__":
    main()
