"""SQL repositories for short-lived credentials: authorization codes, access tokens (JWT ones
and those issued before sealing, by hash; what sealed ones depend on), browser sessions and
pending interactions. All are looked up by hash or random id, never by raw value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update

from authgate.core.models import (
    AccessToken,
    AuthorizationCode,
    Interaction,
    Session,
    TokenHash,
    TokenStanding,
    User,
)
from authgate.storage.base import (
    AccessTokenRepository,
    CodeRepository,
    Consumed,
    InteractionRepository,
    Replayed,
    SessionRepository,
    SignedIn,
)
from authgate.storage.sql._engine.executor import Executor
from authgate.storage.sql.dialect import insert_if_absent, insert_new
from authgate.storage.sql.live_grant import (
    Qualified,
    live_grant_id,
    newest_grant_id,
    user_token_epoch,
)
from authgate.storage.sql.revocation import revoking
from authgate.storage.sql.rows import (
    GRANT_COLUMNS,
    DbRow,
    access_token_from_row,
    access_token_values,
    code_from_row,
    code_values,
    grant_from_row,
    interaction_from_row,
    interaction_values,
    session_from_user_row,
    session_values,
    user_from_row,
)
from authgate.storage.sql.schema import (
    UtcDateTime,
    access_tokens,
    clients,
    codes,
    grants,
    interactions,
    refresh_tokens,
    revoked_access_tokens,
    sessions,
    token_families,
    users,
)

__all__ = [
    "SqlAccessTokenRepository",
    "SqlCodeRepository",
    "SqlInteractionRepository",
    "SqlSessionRepository",
]

_NOW = bindparam("now", type_=UtcDateTime)
# Parameters of UPDATE statements may not share a column's name (SQLAlchemy reserves those).

_CONSUME_CODE = (
    update(codes)
    .where(
        codes.c.code_hash == bindparam("hash"),
        codes.c.consumed_at.is_(None),
        codes.c.expires_at > _NOW,
    )
    .values(consumed_at=_NOW)
    .returning(
        *codes.c,
        Qualified(live_grant_id(codes.c.user_id, codes.c.client_id).scalar_subquery()).label(
            "live_grant_id"
        ),
        Qualified(user_token_epoch(codes.c.user_id).scalar_subquery()).label("user_epoch"),
    )
)
_GET_CODE = select(codes).where(codes.c.code_hash == bindparam("hash"))

_GET_TOKEN = select(access_tokens).where(access_tokens.c.token_hash == bindparam("token_hash"))

# The session's own columns under names the user's columns do not take.
_GET_SESSION_WITH_USER = (
    select(
        sessions.c.id_hash,
        sessions.c.auth_time,
        sessions.c.created_at.label("session_created_at"),
        sessions.c.expires_at.label("session_expires_at"),
        *users.c,
    )
    .join(users, users.c.id == sessions.c.user_id)
    .where(sessions.c.id_hash == bindparam("id_hash"), sessions.c.expires_at > _NOW)
)
# The same with the user's newest unrevoked grant to one client (its columns prefixed).
_GRANT_PREFIXED = tuple(f"grant_{name}" for name in GRANT_COLUMNS)
_GET_SIGNED_IN = _GET_SESSION_WITH_USER.add_columns(
    *(
        grants.c[name].label(label)
        for name, label in zip(GRANT_COLUMNS, _GRANT_PREFIXED, strict=True)
    )
).outerjoin(
    grants, grants.c.id == newest_grant_id(users.c.id, bindparam("client_id")).scalar_subquery()
)
_DELETE_SESSION = delete(sessions).where(sessions.c.id_hash == bindparam("id_hash"))
_DELETE_USER_SESSIONS = delete(sessions).where(sessions.c.user_id == bindparam("user_id"))
_REVOKE_TOKEN = revoking(access_tokens, access_tokens.c.token_hash == bindparam("hash"), _NOW)
_REVOKE_USER_TOKENS = revoking(
    access_tokens,
    # Through the user's grants (indexed by user): access_tokens has no user index, and
    # every token issued to a user carries its grant (migration 0007).
    access_tokens.c.grant_id.in_(select(grants.c.id).where(grants.c.user_id == bindparam("user"))),
    _NOW,
)
# Sealed tokens (no rows): every token issued in an earlier epoch is revoked. A counter, not
# a time: exact however the issuing and revoking nodes' clocks differ, and in whichever order
# their transactions commit (the issuing statement reads the epoch it seals).
_NEXT_USER_EPOCH = (
    update(users).where(users.c.id == bindparam("user")).values(token_epoch=users.c.token_epoch + 1)
)
# What a sealed access token depends on, in one statement of primary-key lookups: each
# outer join matches at most one row, or none when the token names no grant, user or
# family (a NULL parameter equals nothing) or the row is gone.
_STANDING = (
    select(
        clients.c.created_at.label("client_created_at"),
        grants.c.id.label("grant_found"),
        grants.c.revoked_at.label("grant_revoked_at"),
        users.c.id.label("user_found"),
        users.c.disabled.label("user_disabled"),
        users.c.token_epoch.label("user_token_epoch"),
        token_families.c.revoked_at.label("family_revoked_at"),
        revoked_access_tokens.c.token_hash.label("revoked_hash"),
    )
    .select_from(clients)
    .outerjoin(grants, grants.c.id == bindparam("grant_id"))
    .outerjoin(users, users.c.id == bindparam("user_id"))
    .outerjoin(token_families, token_families.c.family_id == bindparam("family_id"))
    .outerjoin(revoked_access_tokens, revoked_access_tokens.c.token_hash == bindparam("token_hash"))
    .where(clients.c.client_id == bindparam("client_id"))
)
# The same with the user's columns (under their own names, which the labels above avoid), for
# UserInfo, which needs the user next: one statement instead of two.
_STANDING_WITH_USER = _STANDING.add_columns(*users.c)
_CLIENT_GONE = TokenStanding(client_found=False)  # and nothing else found
_REVOKE_USER_FAMILIES = revoking(
    token_families, token_families.c.user_id == bindparam("user"), _NOW
)
_REVOKE_USER_REFRESH_TOKENS = revoking(
    refresh_tokens,
    # Through the families: refresh_tokens indexes only family_id (migration 0008).
    refresh_tokens.c.family_id.in_(
        select(token_families.c.family_id).where(token_families.c.user_id == bindparam("user"))
    ),
    _NOW,
)

_GET_INTERACTION = select(interactions).where(
    interactions.c.id == bindparam("interaction_id"), interactions.c.expires_at > _NOW
)
_DELETE_INTERACTION = delete(interactions).where(interactions.c.id == bindparam("interaction_id"))


def _standing_from_row(row: DbRow) -> TokenStanding:
    return TokenStanding(
        client_found=True,
        client_created_at=row.client_created_at,
        grant_found=row.grant_found is not None,
        grant_revoked_at=row.grant_revoked_at,
        user_found=row.user_found is not None,
        user_disabled=bool(row.user_disabled),
        user_token_epoch=row.user_token_epoch,
        family_revoked_at=row.family_revoked_at,
        revoked_one_by_one=row.revoked_hash is not None,
    )


class SqlCodeRepository(CodeRepository):
    """Authorization codes, single use (RFC 6749 §4.1.2, §10.5; OAuth 2.1 §4.1.3)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, code: AuthorizationCode) -> None:
        await insert_new(self._conn, codes, code_values(code))

    async def consume(self, code_hash: TokenHash, now: datetime) -> Consumed | Replayed | None:
        """Mark the code consumed with one conditional ``UPDATE … RETURNING``, which also
        returns the user's live grant (the token endpoint's next question).

        The database serialises concurrent updates of the row, and the condition
        ``consumed_at IS NULL`` is re-checked by each, so exactly one caller gets ``Consumed``
        however requests interleave. A caller that loses reads the row to tell a replay
        (RFC 6749 §4.1.2: the server should then revoke the code's tokens) from an unknown or
        expired code.
        """
        params = {"hash": code_hash, "now": now}
        row = (await self._conn.execute(_CONSUME_CODE, params)).first()
        if row is not None:
            return Consumed(code_from_row(row), row.live_grant_id, row.user_epoch)
        row = (await self._conn.execute(_GET_CODE, params)).first()
        if row is not None and row.consumed_at is not None:
            return Replayed(code_from_row(row))
        return None


class SqlAccessTokenRepository(AccessTokenRepository):
    """Access tokens with a row, by hash (JWT access tokens, and random ones issued before
    tokens were sealed; RFC 6749 §1.4), and what sealed tokens, which have none, depend on
    (``standing``, ``revoke_sealed``)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, token: AccessToken) -> None:
        await insert_new(self._conn, access_tokens, access_token_values(token))

    async def get(self, token_hash: TokenHash) -> AccessToken | None:
        """The token whether or not it is still active; callers decide with ``is_active``."""
        row = (await self._conn.execute(_GET_TOKEN, {"token_hash": token_hash})).first()
        return None if row is None else access_token_from_row(row)

    async def revoke(self, token_hash: TokenHash, now: datetime) -> bool:
        """Revoke one token (RFC 7009 §2.1); True if it was not revoked before."""
        params = {"hash": token_hash, "now": now}
        return (await self._conn.execute(_REVOKE_TOKEN, params)).rowcount > 0

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
        """What the database says now about a sealed token's client, grant, user and family,
        and whether it was revoked on its own (design note 0009); with ``with_user``, the
        user's columns come in the same statement."""
        params = {
            "token_hash": token_hash,
            "client_id": client_id,
            "grant_id": grant_id,
            "user_id": user_id,
            "family_id": family_id,
        }
        statement = _STANDING_WITH_USER if with_user else _STANDING
        row = (await self._conn.execute(statement, params)).first()
        if row is None:
            return _CLIENT_GONE, None
        user = user_from_row(row) if with_user and row.user_found is not None else None
        return _standing_from_row(row), user

    async def revoke_sealed(self, token_hash: TokenHash, expires_at: datetime) -> bool:
        """Revoke one sealed token (RFC 7009 §2.1), remembered until it would have expired;
        True if it was not revoked before."""
        return await insert_if_absent(
            self._conn,
            revoked_access_tokens,
            {"token_hash": token_hash, "expires_at": expires_at},
        )

    async def revoke_for_user(self, user_id: str, now: datetime) -> int:
        """Revoke every live token of the user (OWASP: a new password ends old access): the
        rows, and every sealed token issued until now (``users.token_epoch`` moves on)."""
        params = {"user": user_id, "now": now}
        await self._conn.execute(_NEXT_USER_EPOCH, params)
        await self._conn.execute(_REVOKE_USER_FAMILIES, params)
        await self._conn.execute(_REVOKE_USER_REFRESH_TOKENS, params)
        return (await self._conn.execute(_REVOKE_USER_TOKENS, params)).rowcount


class SqlSessionRepository(SessionRepository):
    """Server-side browser sessions, keyed by the hash of the cookie's random id."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, session: Session) -> None:
        await insert_new(self._conn, sessions, session_values(session))

    async def get_with_user(self, id_hash: TokenHash, now: datetime) -> tuple[Session, User] | None:
        """One ``JOIN``: the unexpired session and its user."""
        params = {"id_hash": id_hash, "now": now}
        row = (await self._conn.execute(_GET_SESSION_WITH_USER, params)).first()
        return None if row is None else (session_from_user_row(row), user_from_row(row))

    async def get_signed_in(
        self, id_hash: TokenHash, now: datetime, client_id: str
    ) -> SignedIn | None:
        """One statement: the unexpired session, its user and the user's newest unrevoked
        grant to the client (``LEFT JOIN`` on the id the ``grants.find`` order picks)."""
        params = {"id_hash": id_hash, "now": now, "client_id": client_id}
        row = (await self._conn.execute(_GET_SIGNED_IN, params)).first()
        if row is None:
            return None
        grant = None if row.grant_id is None else grant_from_row(row, _GRANT_PREFIXED)
        return SignedIn(session_from_user_row(row), user_from_row(row), grant)

    async def delete(self, id_hash: TokenHash) -> None:
        await self._conn.execute(_DELETE_SESSION, {"id_hash": id_hash})

    async def delete_for_user(self, user_id: str) -> int:
        return (await self._conn.execute(_DELETE_USER_SESSIONS, {"user_id": user_id})).rowcount


class SqlInteractionRepository(InteractionRepository):
    """Authorization requests waiting for login or consent (OIDC Core §3.1.2.3, §3.1.2.4)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Executor) -> None:
        self._conn = conn

    async def add(self, interaction: Interaction) -> None:
        await insert_new(self._conn, interactions, interaction_values(interaction))

    async def get(self, interaction_id: str, now: datetime) -> Interaction | None:
        params = {"interaction_id": interaction_id, "now": now}
        row = (await self._conn.execute(_GET_INTERACTION, params)).first()
        return None if row is None else interaction_from_row(row)

    async def delete(self, interaction_id: str) -> bool:
        """True only for the call that removed the row: of two concurrent completions of the
        same interaction, one wins and the other must not issue a code."""
        result = await self._conn.execute(_DELETE_INTERACTION, {"interaction_id": interaction_id})
        return result.rowcount == 1
