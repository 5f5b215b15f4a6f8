"""Registered clients kept in memory between SQLite transactions, for as long as nothing else
has written to the database file.

Every token, introspection and authorization request looks its client up; the row with its
JSON columns and the ``Client`` built from it cost about as much as the rest of a
client_credentials request's reads (bench/README.md). A cached client is used only while
SQLite's ``PRAGMA data_version`` on the loop's connection is unchanged. That number changes
whenever *another* connection commits (another worker, the CLI), so a client registered,
changed or deleted by any other process is never served from memory. Writes on the loop's
own connection do not change it, so the client repository's own writes clear the cache, and
a transaction that wrote clients fills nothing and clears the cache again when it ends (a
rolled-back registration is never remembered).

Unknown client_ids are not remembered (a stream of made-up ids must not fill memory), and the
cache holds at most ``MAX_CLIENTS`` clients, starting over when full. A cached ``Client`` is
shared by every request that reads it, so it must never be changed in place (it is frozen;
its ``metadata`` and ``jwks`` dicts are only ever read).

PostgreSQL has no such counter. There, a trigger sends a notice on every committed change
to the clients table, each process counts the notices it receives on a connection of its own
(``client_notices``), and that count is the version (:class:`NotifiedClientCache`).
"""

from __future__ import annotations

from typing import Final

from authgate.core.models import Client

__all__ = ["ClientCache", "MAX_CLIENTS", "NotifiedClientCache"]

MAX_CLIENTS: Final = 10_000


class ClientCache:
    """Clients by client_id, tagged with the ``data_version`` they were read at."""

    __slots__ = ("_clients", "_version", "_written")

    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._version: int | None = None
        self._written = False

    def get(self, client_id: str, version: int) -> Client | None:
        """The client as cached, if nothing else has committed since it was read."""
        if version != self._version:
            self._clients.clear()
            self._version = version
            return None
        return self._clients.get(client_id)

    def put(self, client: Client, version: int) -> None:
        """Remember ``client``, read at ``version`` (ignored after a write in this transaction)."""
        if self._written or version != self._version:
            return
        if len(self._clients) >= MAX_CLIENTS:
            self._clients.clear()
        self._clients[client.client_id] = client

    def written(self) -> None:
        """The current transaction wrote to the clients table: forget everything."""
        self._written = True
        self._clients.clear()

    def end_transaction(self) -> None:
        """Called when every transaction ends, committed or not."""
        if self._written:
            self._written = False
            self._clients.clear()

    def reset(self) -> None:
        """A new connection: its ``data_version`` numbers are unrelated to the old one's."""
        self._clients.clear()
        self._version = None
        self._written = False


class NotifiedClientCache(ClientCache):
    """PostgreSQL's variant, shared by concurrent transactions. Versions are the count of
    change notices (``client_notices.ClientNotices``): a committed change anywhere, including
    this process, arrives as a notice and empties the cache. Only reads made before their
    transaction began (so of committed rows only) use the cache: a transaction that wrote
    reads its own uncommitted rows from the database, so there is nothing to track per
    transaction."""

    __slots__ = ()

    def written(self) -> None:
        """A write here is about to commit: forget now rather than at its notice."""
        self.reset()

    def end_transaction(self) -> None:
        """Nothing to do: a committed change arrives as a notice."""
