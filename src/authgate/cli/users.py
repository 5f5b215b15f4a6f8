"""``authgate users``: create, list, set-password, disable, enable, revoke-grant."""

from __future__ import annotations

import argparse
import asyncio
import sys

from authgate.cli.common import CliError, command, read_secret_stdin
from authgate.core.models import User
from authgate.server.context import ServerContext
from authgate.storage.base import DuplicateError

__all__ = ["add_parser", "change_password", "create_user", "revoke_grant", "set_disabled"]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # the sign-in form reads at most this many characters


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="manage user accounts")
    cmds = users.add_subparsers(dest="action", required=True)
    create = cmds.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (first line)",
    )
    create.add_argument("--email")
    create.add_argument(
        "--email-unverified",
        action="store_true",
        help="mark the email as not verified (default: verified)",
    )
    create.add_argument("--name", help="full name")
    create.add_argument("--given-name")
    create.add_argument("--family-name")
    cmds.add_parser("list", help="list users")
    setpw = cmds.add_parser("set-password", help="change a user's password")
    setpw.add_argument("username")
    setpw.add_argument("--password-stdin", action="store_true")
    for action in ("disable", "enable"):
        help_text = (
            "disable a user (a disabled user cannot sign in)"
            if action == "disable"
            else "enable a disabled user again"
        )
        cmd = cmds.add_parser(action, help=help_text)
        cmd.add_argument("username")
    withdraw = cmds.add_parser(
        "revoke-grant",
        help="withdraw a user's consent to one client, with every token issued under it",
    )
    withdraw.add_argument("username")
    withdraw.add_argument("--client", required=True, metavar="CLIENT_ID")


def _password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise CliError("pass --password-stdin and write the password to standard input")
    password = read_secret_stdin("password")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise CliError(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


async def create_user(
    ctx: ServerContext,
    username: str,
    password: str,
    *,
    email: str | None = None,
    email_verified: bool = True,
    name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
) -> User:
    """Create a user with an argon2id password hash (hashed off the event loop)."""
    username = username.strip().lower()
    if not username or len(username) > 128 or any(c.isspace() for c in username):
        raise CliError("the username must be 1 to 128 characters without spaces")
    now = ctx.clock.now()
    password_hash = await asyncio.to_thread(ctx.passwords.hash, password)
    if name is None and (given_name or family_name):
        name = " ".join(p for p in (given_name, family_name) if p)
    if name and given_name is None and family_name is None and " " in name:
        given_name, family_name = name.split(" ", 1)
    user = User(
        id=ctx.random.identifier(),
        username=username,
        password_hash=password_hash,
        email=email,
        email_verified=bool(email) and email_verified,
        name=name,
        given_name=given_name,
        family_name=family_name,
        created_at=now,
        updated_at=now,
    )
    async with ctx.storage.transaction() as tx:
        try:
            await tx.users.add(user)
        except DuplicateError:
            raise CliError(f"a user named {username!r} already exists") from None
    return user


async def change_password(ctx: ServerContext, user: User, password: str) -> int:
    """Set a new password and end what the old one opened: every session of the user and
    every token issued until now (OWASP Session Management). Returns how many sessions
    ended. (How many access tokens were revoked cannot be told: sealed ones have no row.)"""
    password_hash = await asyncio.to_thread(ctx.passwords.hash, password)
    now = ctx.clock.now()
    async with ctx.storage.transaction() as tx:
        await tx.users.set_password(user.id, password_hash, now)
        ended = await tx.sessions.delete_for_user(user.id)
        await tx.access_tokens.revoke_for_user(user.id, now)
    return ended


async def set_disabled(ctx: ServerContext, user: User, disabled: bool) -> None:
    """Disable (or enable) a user; disabling ends their sessions and revokes their tokens now,
    not when they expire."""
    now = ctx.clock.now()
    async with ctx.storage.transaction() as tx:
        await tx.users.set_disabled(user.id, disabled, now)
        if disabled:
            await tx.sessions.delete_for_user(user.id)
            await tx.access_tokens.revoke_for_user(user.id, now)


# Two consents completing at once may each leave a grant (storage: the newest one wins).
_MAX_GRANTS = 100


async def revoke_grant(ctx: ServerContext, user: User, client_id: str) -> int:
    """Withdraw the user's consent to ``client_id``: every unrevoked grant of the user to it
    is revoked, with every access and refresh token issued under it, now; the next
    authorization asks for consent again. Returns how many grants were revoked.
    Spec: RFC 7009 §2.1 (revoking a grant invalidates the tokens based on it); RFC 6749 §10.4."""
    now = ctx.clock.now()
    revoked = 0
    async with ctx.storage.transaction() as tx:
        while revoked < _MAX_GRANTS and (grant := await tx.grants.find(user.id, client_id)):
            await tx.grants.revoke(grant.id, now)
            revoked += 1
    return revoked


async def _dispatch(ctx: ServerContext, args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.action == "create":
        user = await create_user(
            ctx,
            args.username,
            _password(args),
            email=args.email,
            email_verified=not args.email_unverified,
            name=args.name,
            given_name=args.given_name,
            family_name=args.family_name,
        )
        out.write(f"created user {user.username} (sub {user.id})\n")
        return 0
    if args.action == "list":
        async with ctx.storage.transaction() as tx:
            users = await tx.users.list()
        for u in users:
            state = "disabled" if u.disabled else "active"
            out.write(f"{u.username}\t{u.id}\t{u.email or '-'}\t{state}\n")
        return 0
    username = args.username.strip().lower()
    async with ctx.storage.transaction() as tx:
        found = await tx.users.get_by_username(username)
    if found is None:
        raise CliError(f"no user named {username!r} (see: authgate users list)")
    if args.action == "revoke-grant":
        revoked = await revoke_grant(ctx, found, args.client)
        if not revoked:
            raise CliError(f"{username} has no grant to client {args.client!r}")
        out.write(f"revoked the grant of {username} to {args.client} and its tokens\n")
        return 0
    if args.action == "set-password":
        ended = await change_password(ctx, found, _password(args))
        out.write(
            f"password changed for {username}; ended {ended} session(s), "
            "revoked every token issued until now\n"
        )
    else:
        await set_disabled(ctx, found, args.action == "disable")
        out.write(f"{args.action}d {username}\n")
    return 0


run_users = command(_dispatch)
