"""Prepared statements: the repositories' SQLAlchemy Core statements compiled once, then run on
the driver's cursor (SQLite, ``sqlite_executor``) or connection (asyncpg, ``asyncpg_executor``).

Every repository statement is a module-level constant, so its SQL, the order of its
parameters, their type conversions and the conversions of its result columns can be worked
out once (by SQLAlchemy's own compiler and types) and reused. Executing then costs one
``cursor.execute`` plus the few conversions a row needs, instead of SQLAlchemy's per-execution
context, parameter construction and result machinery: measured at ~14 µs of a ~22 µs indexed
lookup, several per token request (bench/README.md). What is not prepared, and where it runs
instead, is in this folder's README.md.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Dialect, Executable
from sqlalchemy.exc import MultipleResultsFound, NoResultFound
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import TypeDecorator

__all__ = [
    "MAX_PREPARED",
    "DirectResult",
    "MissingParameter",
    "Prepared",
    "bind",
    "prepared_for",
]

MAX_PREPARED: Final = 512
"""Statements kept prepared; each is held (not just its id), so an id is never reused."""

Processor = Callable[[Any], Any] | None

_UNSET: Final = object()


class DirectResult:
    """The rows (already converted) or the row count of one statement, with the subset of
    SQLAlchemy's ``Result`` API that the repositories use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise (NoResultFound if not self._rows else MultipleResultsFound)(
                "expected exactly one row"
            )
        return self._rows[0][0]

    def scalar_one_or_none(self) -> Any | None:
        if len(self._rows) > 1:
            raise MultipleResultsFound("expected at most one row")
        return self._rows[0][0] if self._rows else None


class Prepared:
    """One statement's SQL and how to convert its parameters and rows."""

    __slots__ = (
        "binds",
        "defaults",
        "dml",
        "names",
        "plain_read",
        "results",
        "returns_rows",
        "row",
        "sql",
    )

    def __init__(
        self, statement: Select[Any] | UpdateBase, dialect: Dialect, keys: Sequence[str] | None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys or ()) or None)
        if compiled.insert_prefetch or compiled.update_prefetch:
            # Python-side column defaults: SQLAlchemy computes them per execution.
            raise _NotPrepared("Python-side defaults")
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names: list[str] = list(compiled.positiontup or ())
        defaults: list[Any] = []
        binds: list[Processor] = []
        for name in names:
            bind = by_name[name]
            if bind.expanding or bind.literal_execute:
                raise _NotPrepared("a parameter rendered per execution")
            defaults.append(_UNSET if bind.required else bind.effective_value)
            binds.append(_bind_processor(bind.type, dialect))
        self.sql: str = compiled.string
        self.names = tuple(names)
        self.defaults = tuple(defaults)
        self.binds = tuple(binds)
        columns = list(statement.exported_columns) if isinstance(statement, UpdateBase) else []
        if isinstance(statement, Select):
            columns = list(statement.selected_columns)
        self.returns_rows = bool(columns)
        self.dml = isinstance(statement, UpdateBase)
        # A SELECT that neither writes nor locks: on PostgreSQL it needs no transaction of its
        # own (asyncpg_executor). SQLAlchemy keeps FOR UPDATE/SHARE only in this attribute.
        self.plain_read = (
            isinstance(statement, Select) and getattr(statement, "_for_update_arg", None) is None
        )
        self.results: tuple[Processor, ...] = tuple(
            _result_processor(c.type, dialect) for c in columns
        )
        self.row: Any = _row_type([str(c.key) for c in columns])

    def parameters(self, params: Mapping[str, Any] | None) -> list[Any]:
        values = []
        given = params or {}
        for name, default, process in zip(self.names, self.defaults, self.binds, strict=True):
            value = given.get(name, default)
            if value is _UNSET:
                raise MissingParameter(name)
            values.append(value if process is None else process(value))
        return values

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        make = self.row._make
        results = self.results
        if not any(results):
            return [make(r) for r in raw]
        return [
            make([v if p is None else p(v) for v, p in zip(r, results, strict=True)]) for r in raw
        ]


def _bind_processor(column_type: Any, dialect: Dialect) -> Processor:
    """What SQLAlchemy would apply to a parameter of this type. authgate's own types
    (``schema``) say it directly (``direct_bind``): one call instead of SQLAlchemy's wrapper,
    which calls the type's method and then the impl's processor (for ``REAL`` on SQLite,
    ``float`` of the float the method returned). ``tests/storage/test_direct_executor.py``
    checks both give the same values on both dialects."""
    direct: Processor = getattr(column_type, "direct_bind", None)
    if direct is not None:
        return direct
    processor: Processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _result_processor(column_type: Any, dialect: Dialect) -> Processor:
    """What SQLAlchemy would apply to a value of this column. asyncpg already returns the
    native Python type of every column type authgate uses (float, str, bool, int, bytes), and
    its dialect picks numeric conversions by the result's type OID, which a prepared
    statement does not look up: there only our own types convert. Our own types convert with
    their ``direct_result`` (see ``_bind_processor``)."""
    direct: Processor = getattr(column_type, "direct_result", None)
    if direct is not None:
        return direct
    if dialect.driver == "asyncpg":
        if isinstance(column_type, TypeDecorator):
            convert = column_type.process_result_value
            return lambda value: convert(value, dialect)
        return None
    processor: Processor = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return processor


def _row_type(names: list[str]) -> Any:
    """A named tuple class: rows read by attribute like SQLAlchemy's ``Row``, built in C."""
    return namedtuple("Row", names, rename=True)


class _NotPrepared(Exception):
    """This statement runs through SQLAlchemy instead."""


class MissingParameter(Exception):
    """A required parameter was not given (the caller lets SQLAlchemy word the error)."""


def bind(
    cache: dict[Any, Prepared | None],
    statement: Executable,
    parameters: Mapping[str, Any] | None,
    dialect: Dialect,
) -> tuple[Prepared, list[Any]] | None:
    """The statement's prepared form with its positional values, or None when it runs through
    SQLAlchemy instead: not preparable, or a parameter is missing (SQLAlchemy raises its own,
    well-worded error for that)."""
    prepared = prepared_for(cache, statement, parameters, dialect)
    if prepared is None:
        return None
    try:
        return prepared, prepared.parameters(parameters)
    except MissingParameter:
        return None


def prepared_for(
    cache: dict[Any, Prepared | None],
    statement: Executable,
    parameters: Mapping[str, Any] | None,
    dialect: Dialect,
) -> Prepared | None:
    """The statement's prepared form (made and cached on first use), or None if it runs
    through SQLAlchemy. An ``INSERT`` compiles per set of columns given."""
    key: Any = statement
    if isinstance(statement, Insert) and parameters:
        key = (statement, tuple(parameters))
    found = cache.get(key, _UNSET)
    if found is not _UNSET:
        return found  # type: ignore[return-value]
    if not isinstance(statement, Select | UpdateBase) or len(cache) >= MAX_PREPARED:
        return None
    keys = tuple(parameters) if isinstance(statement, Insert) and parameters else None
    try:
        prepared: Prepared | None = Prepared(statement, dialect, keys)
    except _NotPrepared:
        prepared = None
    cache[key] = prepared
    return prepared
