"""The one definition of a user's live authorization for a client, as a correlated subquery
that other statements embed: the token endpoint reads it in the same statement as the code it
consumes or the refresh token it locks, and the authorization endpoint with the session.

"Live" is the newest unrevoked grant (two consents completing at once may each create one;
the newest wins) of a user who is not disabled. A code or token whose ``grant_id`` is not that
grant's id no longer stands for a valid authorization (RFC 6749 §10.4).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from authgate.storage.sql.schema import grants, users

__all__ = ["Qualified", "live_grant_id", "newest_grant_id", "user_token_epoch"]

_G = grants.alias("live_grant")
_U = users.alias("grant_user")
_E = users.alias("epoch_user")


def newest_grant_id(user_id: ColumnElement[Any], client_id: ColumnElement[Any]) -> Select[Any]:
    """The id of the user's newest unrevoked grant to the client (whether or not the user is
    enabled): two consents completing at once may each create a grant, and the newest wins.
    ``grants.find`` reads the grant with this id."""
    return (
        select(_G.c.id)
        .where(_G.c.user_id == user_id, _G.c.client_id == client_id, _G.c.revoked_at.is_(None))
        .order_by(_G.c.updated_at.desc(), _G.c.id)
        .limit(1)
    )


def live_grant_id(user_id: ColumnElement[Any], client_id: ColumnElement[Any]) -> Select[Any]:
    """``newest_grant_id`` if the user is enabled; no row if the user is disabled or has no
    such grant."""
    return newest_grant_id(user_id, client_id).join_from(
        _G, _U, and_(_U.c.id == _G.c.user_id, _U.c.disabled == false())
    )


def user_token_epoch(user_id: ColumnElement[Any]) -> Select[Any]:
    """The user's token epoch, read by the statement that issues a token, so the sealed
    access token carries the epoch its transaction saw (``users.token_epoch``)."""
    return select(_E.c.token_epoch).where(_E.c.id == user_id)


class Qualified(ColumnElement[Any]):
    """A subquery rendered with table-qualified column names wherever it stands. SQLite's
    compiler drops the qualifiers in a ``RETURNING`` clause, and would drop them inside a
    subquery there too, where ``id`` or ``user_id`` would then name another table's column."""

    __visit_name__ = "authgate_qualified"
    # SQLAlchemy declares this a list; it holds what the cache key is made of.
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]  # noqa: RUF012
    inherit_cache = True

    def __init__(self, element: ColumnElement[Any]) -> None:
        self.element = element
        self.type = element.type


@compiles(Qualified)
def _compile_qualified(element: Qualified, compiler: SQLCompiler, **kw: Any) -> str:
    kw.pop("include_table", None)
    return compiler.process(element.element, **kw)
