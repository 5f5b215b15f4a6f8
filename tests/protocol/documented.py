"""The words of the errors: the table of every ``error_description`` in docs/errors.md, and
assertions that pin a response's ``error`` and ``error_description`` to one of its sentences.

``…`` in a sentence stands for a value from the request or the configuration; it matches any
non-empty text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx

ERRORS_MD = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
TABLE_HEADING = "## Every description"
_ROW = re.compile(r"^\| `([a-z_]+)` \| `(.+)` \|$")


@cache
def documented_sentences() -> frozenset[tuple[str, str]]:
    """``(error, sentence)`` for every row of the table in docs/errors.md."""
    text = ERRORS_MD.read_text()
    section = text.split(TABLE_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = frozenset(
        (m.group(1), m.group(2)) for line in section.splitlines() if (m := _ROW.match(line))
    )
    assert rows, f"no rows under {TABLE_HEADING!r} in {ERRORS_MD}"
    return rows


def sentence_pattern(sentence: str) -> re.Pattern[str]:
    """A sentence of the table as a regular expression (``…`` matches any value)."""
    return re.compile(
        "".join(".+" if part == "…" else re.escape(part) for part in re.split("(…)", sentence))
    )


def is_documented(error: str, description: str) -> bool:
    """Is ``description`` one of the table's sentences for ``error``?"""
    return any(
        code == error and sentence_pattern(sentence).fullmatch(description)
        for code, sentence in documented_sentences()
    )


def assert_described(body: Mapping[str, Any], error: str, description: str) -> None:
    """``body`` (a JSON error or the parameters of an error redirect) names ``error`` with
    exactly ``description``, which docs/errors.md lists for that code."""
    assert body.get("error") == error, body
    assert body.get("error_description") == description, body
    assert is_documented(error, description), (
        f"{error}: {description!r} is not in the table of docs/errors.md"
    )


def assert_error(r: httpx.Response, status: int, error: str, description: str) -> None:
    """A JSON error response: its status, code and exact, documented description."""
    assert r.status_code == status, r.text
    assert_described(r.json(), error, description)
