"""Storage interfaces: one Protocol per aggregate, grouped in a transaction (unit of work).

Protocol invariants are expressed as atomic operations, so no caller can get them wrong:
``codes.consume`` is one conditional UPDATE; a code presented twice is reported as ``Replayed``
whatever the interleaving. A cascade is one operation too (``refresh_tokens.revoke_family``):
the backend, not the caller, knows which rows to lock first. Only hashes of codes, tokens,
session ids and secrets are stored; sealed access tokens have no row at all (design note 0009).

Each method states its contract; the SQL backend (SQLite and PostgreSQL) is held to it by the
contract suite in ``tests/storage``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from authgate.core.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Grant,
    Interaction,
    RefreshToken,
    Resource,
    Session,
    SigningKeyRecord,
    TokenHash,
    TokenStanding,
    User,
)

__all__ = [
    "AccessTokenRepository",
    "ClientRepository",
    "CodeRepository",
    "Consumed",
    "DuplicateError",
    "GrantRepository",
    "InteractionRepository",
    "KeyRepository",
    "Locked",
    "MaintenanceRepository",
    "PURGEABLE",
    "RefreshTokenRepository",
    "Replayed",
    "ResourceRepository",
    "Reused",
    "Rotated",
    "SecretRepository",
    "SessionRepository",
    "SignedIn",
    "Storage",
    "StorageUnavailable",
    "ThrottleRepository",
    "Transaction",
    "UserRepository",
]


class DuplicateError(Exception):
    """An insert collided with an existing unique value (username, client_id, ...)."""


class StorageUnavailable(Exception):
    """The database cannot be reached or timed out; the request may be retried later."""


@dataclass(frozen=True, slots=True)
class Consumed:
    """The code was valid and is now consumed by this call (the single winner), with the id
    of its user's live grant to its client read by the same statement: the newest unrevoked
    grant of an enabled user, None if there is none or the user is disabled."""

    code: AuthorizationCode
    live_grant_id: str | None
    user_epoch: int | None = None
    """The user's token epoch, which the access token issued now carries (design note 0009)."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """The code had already been consumed: a replay (RFC 6749 §4.1.2, §10.5)."""

    code: AuthorizationCode


@dataclass(frozen=True, slots=True)
class Locked:
    """A refresh token read with its family locked, and the id of its user's live grant to
    its client read by the same statement: the newest unrevoked grant of an enabled user,
    None if there is none or the user is disabled (RFC 6749 §10.4: the token is only as
    good as the authorization it came from)."""

    token: RefreshToken
    live_grant_id: str | None
    user_epoch: int | None = None
    """The user's token epoch, which the access token issued now carries (design note 0009)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A browser's unexpired session, its user and that user's newest unrevoked grant to
    one client (None if there is none)."""

    session: Session
    user: User
    grant: Grant | None


@dataclass(frozen=True, slots=True)
class Rotated:
    """The refresh token was active and is now rotated by this call (the single winner)."""

    token: RefreshToken


@dataclass(frozen=True, slots=True)
class Reused:
    """The refresh token had already been rotated: reuse (RFC 9700 §4.14.2)."""

    token: RefreshToken


class ClientRepository(Protocol):
    async def get(self, client_id: str) -> Client | None:
        """The registered client ``client_id``, or None if there is none."""

    async def add(self, client: Client) -> None:
        """Register ``client``; raises DuplicateError if the client_id exists."""

    async def list(self) -> list[Client]:
        """Every registered client, ordered by client_id."""

    async def delete(self, client_id: str) -> bool:
        """Delete the client and everything issued to it (codes, tokens, families, grants);
        True if it existed."""


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None:
        """The user ``user_id`` (enabled or not), or None if there is none."""

    async def get_by_username(self, username: str) -> User | None:
        """The user of ``username``; usernames compare case-insensitively (stored lower-cased
        by the caller)."""

    async def add(self, user: User) -> None:
        """Create ``user``; raises DuplicateError if the username exists."""

    async def list(self) -> list[User]:
        """Every user, ordered by username."""

    async def set_password(self, user_id: str, password_hash: str, now: datetime) -> bool:
        """Replace the user's password hash; True if the user exists."""

    async def set_disabled(self, user_id: str, disabled: bool, now: datetime) -> bool:
        """Disable or enable the user; True if the user exists."""


class GrantRepository(Protocol):
    async def find(self, user_id: str, client_id: str) -> Grant | None:
        """The newest unrevoked grant of this user to this client, or None."""

    async def save(self, grant: Grant) -> None:
        """Insert, or update in place by id; a revoked grant stays revoked."""

    async def revoke(self, grant_id: str, now: datetime) -> None:
        """Revoke the grant and every access and refresh token issued under it (cascade);
        rows revoked before keep their time."""


class CodeRepository(Protocol):
    async def add(self, code: AuthorizationCode) -> None:
        """Store a new code; raises DuplicateError if its hash exists."""

    async def consume(self, code_hash: TokenHash, now: datetime) -> Consumed | Replayed | None:
        """Atomically mark an unexpired, unconsumed code consumed.

        ``Consumed`` for exactly one caller; ``Replayed`` if it was consumed before (whether or not
        it has expired since); ``None`` if unknown or expired without use.
        """


class AccessTokenRepository(Protocol):
    async def add(self, token: AccessToken) -> None:
        """Store a token. One issued to a user carries the grant it was issued under:
        revocations by user find tokens through the user's grants."""

    async def get(self, token_hash: TokenHash) -> AccessToken | None:
        """The token with a row under ``token_hash``, active or not (``is_active`` tells), or
        None."""

    async def revoke(self, token_hash: TokenHash, now: datetime) -> bool:
        """Revoke one token with a row; True for exactly the call that revoked it."""

    async def revoke_for_user(self, user_id: str, now: datetime) -> int:
        """Revoke every live access and refresh token of a user (password change), sealed
        access tokens issued until ``now`` included; returns how many access tokens with a
        row were newly revoked."""

    async def standing(
        self,
        token_hash: TokenHash,
        *,
        client_id: str,
        grant_id: str | None,
        user_id: str | None,
        family_id: str | None,
        with_user: bool = False,
    ) -> tuple[TokenStanding, User | None]:
        """What a sealed access token (no row) depends on, read in one statement: its client,
        grant, user and family, and whether it was revoked on its own; with ``with_user``, the
        token's user too (None if gone, and always None without ``with_user``)."""

    async def revoke_sealed(self, token_hash: TokenHash, expires_at: datetime) -> bool:
        """Revoke one sealed access token until ``expires_at``; True for exactly the call that
        revoked it."""


class RefreshTokenRepository(Protocol):
    async def start_family(
        self,
        family_id: str,
        *,
        grant_id: str,
        client_id: str,
        user_id: str,
        expires_at: datetime,
    ) -> None:
        """Record a new token family (one per authorization that issues refresh tokens); a
        family that exists already is left as it is."""

    async def add(self, token: RefreshToken) -> None:
        """Store a token of a family already started: revocations by client, user or grant
        find refresh tokens through their family."""

    async def get(self, token_hash: TokenHash) -> RefreshToken | None:
        """The token under ``token_hash``, active or not (``is_active`` tells), or None."""

    async def lock(self, token_hash: TokenHash) -> Locked | None:
        """The token with its family locked for the rest of the transaction, and its user's
        live grant, or None if it is unknown or its family is revoked or gone. Then
        ``rotate(..., locked=locked.token)``."""

    async def rotate(
        self, token_hash: TokenHash, client_id: str, now: datetime, *, locked: RefreshToken
    ) -> Rotated | Reused | None:
        """Atomically mark the token :meth:`lock` returned earlier in this transaction
        (``locked``) rotated, if it is still active and ``client_id``'s.

        ``Rotated`` for exactly one caller (the locked token with ``rotated_at`` set);
        ``Reused`` if this client's token was rotated before; ``None`` if another client's,
        revoked or expired (idle or absolute). Raises ValueError if ``locked`` is another
        token.
        """

    async def revoke_family(self, family_id: str, now: datetime) -> int:
        """Revoke every refresh and access token descending from one authorization: the
        family row first (which waits for a rotation in progress, so its successor and access
        token are revoked too), then its refresh tokens and access tokens with a row; sealed
        access tokens find the family revoked. Returns how many tokens were newly revoked.
        Spec: RFC 6749 §4.1.2, §10.4; RFC 7009 §2.1; RFC 9700 §4.14.2."""

    async def revoke_code_family(self, code: AuthorizationCode, now: datetime) -> int:
        """``revoke_family`` for a replayed code, whose family may have no row yet (no refresh
        token was issued): one is recorded, ended, so that the family's sealed access tokens
        find it revoked. Spec: RFC 6749 §4.1.2, §10.5."""


class ResourceRepository(Protocol):
    async def get(self, identifier: str) -> Resource | None:
        """The registered resource ``identifier``, or None."""

    async def add(self, resource: Resource) -> None:
        """Register ``resource``; raises DuplicateError if the identifier exists."""

    async def list(self) -> list[Resource]:
        """Every registered resource, ordered by identifier."""

    async def delete(self, identifier: str) -> bool:
        """Unregister the resource; True if it existed."""


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None:
        """Store a new browser session; raises DuplicateError if its id hash exists."""

    async def get_with_user(self, id_hash: TokenHash, now: datetime) -> tuple[Session, User] | None:
        """The unexpired session with its user, in one lookup, or None: every authorization
        request of a signed-in browser reads both."""

    async def get_signed_in(
        self, id_hash: TokenHash, now: datetime, client_id: str
    ) -> SignedIn | None:
        """The unexpired session, its user and the user's newest unrevoked grant to
        ``client_id``, in one statement, or None: what every authorization request of a
        signed-in browser needs to decide between login, consent and a code."""

    async def delete(self, id_hash: TokenHash) -> None:
        """End the session (sign-out); nothing if there is none."""

    async def delete_for_user(self, user_id: str) -> int:
        """End every session of a user (password change); returns how many were ended."""


class InteractionRepository(Protocol):
    async def add(self, interaction: Interaction) -> None:
        """Store a pending authorization request; raises DuplicateError if its id exists."""

    async def get(self, interaction_id: str, now: datetime) -> Interaction | None:
        """The interaction if it exists and has not expired, else None."""

    async def delete(self, interaction_id: str) -> bool:
        """Delete; True for exactly one caller (so only one completion wins)."""


class KeyRepository(Protocol):
    async def list(self) -> list[SigningKeyRecord]:
        """All keys, oldest first."""

    async def add(self, key: SigningKeyRecord) -> None:
        """Store a new signing key; raises DuplicateError if its kid exists."""


class ThrottleRepository(Protocol):
    async def hit(self, key: str, now: datetime, window: timedelta) -> int:
        """Count one failure for ``key`` in a fixed window starting at its first failure;
        return the count in the current window (a window older than ``window`` restarts at 1)."""

    async def count(self, key: str, now: datetime, window: timedelta) -> int:
        """Failures of ``key`` in its current window (0 if the window has passed)."""

    async def clear(self, key: str) -> None:
        """Forget the failures of ``key`` (a successful sign-in)."""


PURGEABLE = (
    "codes",
    "access_tokens",
    "revoked_access_tokens",
    "refresh_tokens",
    "token_families",
    "sessions",
    "interactions",
    "throttle",
)
"""Kinds of rows with a lifetime, which ``MaintenanceRepository.purge_expired`` deletes, in
this order: ``refresh_tokens`` before ``token_families``, since refresh tokens are found
through their family and a family is deleted only once none of its refresh tokens remain."""


class MaintenanceRepository(Protocol):
    async def purge_expired(self, kind: str, now: datetime, limit: int) -> int:
        """Delete at most ``limit`` rows of ``kind`` (one of PURGEABLE) whose lifetime ended
        before ``now``; return how many were deleted. Small batches keep each transaction short,
        so purging never holds the database for long."""


class SecretRepository(Protocol):
    async def get_or_create(self, name: str, factory: Callable[[], bytes]) -> bytes:
        """The instance secret ``name``; created with ``factory()`` if absent. Race-safe: two
        nodes creating it at once both end up with the same stored value."""


class Transaction(Protocol):
    """One database transaction: commits when the ``async with`` block ends normally, rolls
    back on an exception."""

    @property
    def clients(self) -> ClientRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def grants(self) -> GrantRepository: ...
    @property
    def codes(self) -> CodeRepository: ...
    @property
    def access_tokens(self) -> AccessTokenRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def resources(self) -> ResourceRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def interactions(self) -> InteractionRepository: ...
    @property
    def keys(self) -> KeyRepository: ...
    @property
    def throttle(self) -> ThrottleRepository: ...
    @property
    def secrets(self) -> SecretRepository: ...
    @property
    def maintenance(self) -> MaintenanceRepository: ...


class Storage(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Begin a transaction. Raises StorageUnavailable when the database is unreachable."""

    async def ping(self) -> None:
        """Raise StorageUnavailable unless the database answers (readiness probe)."""

    async def housekeeping(self) -> None:
        """The backend's own background work, run by the server until cancelled (SQLite copies
        its write-ahead log back into the database file off the event loop). May return at
        once when there is none."""

    async def close(self) -> None: ...
