"""Registered protected resources (RFC 8707 resource indicators, RFC 9068 audiences)."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select

from authgate.core.models import Resource
from authgate.storage.base import ResourceRepository
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.dialect import insert_new
from authgate.storage.sql.rows import resource_from_row, resource_values
from authgate.storage.sql.schema import resources

__all__ = ["SqlResourceRepository"]

_GET = select(resources).where(resources.c.identifier == bindparam("identifier"))
_LIST = select(resources).order_by(resources.c.identifier)
_DELETE = delete(resources).where(resources.c.identifier == bindparam("identifier"))


class SqlResourceRepository(ResourceRepository):
    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def get(self, identifier: str) -> Resource | None:
        row = (await self._conn.execute(_GET, {"identifier": identifier})).first()
        return None if row is None else resource_from_row(row)

    async def add(self, resource: Resource) -> None:
        await insert_new(self._conn, resources, resource_values(resource))

    async def list(self) -> list[Resource]:
        return [resource_from_row(row) for row in await self._conn.execute(_LIST)]

    async def delete(self, identifier: str) -> bool:
        return (await self._conn.execute(_DELETE, {"identifier": identifier})).rowcount > 0
