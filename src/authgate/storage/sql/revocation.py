"""The shape of every revoking statement: mark the matching rows revoked, leaving those revoked
before with their time, so a count of the rows updated is a count of newly revoked ones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Table, Update, update

__all__ = ["revoking"]


def revoking(table: Table, match: ColumnElement[bool], now: BindParameter[Any]) -> Update:
    """``UPDATE table SET revoked_at = :now WHERE match AND revoked_at IS NULL``."""
    return update(table).where(match, table.c.revoked_at.is_(None)).values(revoked_at=now)
