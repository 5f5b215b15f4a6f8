"""``authgate resources``: register the APIs that get audience-restricted access tokens.

Example: ``authgate resources create urn:example:api --scope api:read --scope api:write``.
Spec: RFC 8707 (resource indicators); RFC 9068 (JWT access tokens).
"""

from __future__ import annotations

import argparse
import sys

from authgate.cli.common import CliError, with_context
from authgate.config import Settings
from authgate.core.errors import OAuthError
from authgate.core.models import Resource
from authgate.core.resource import validate_resource_identifier
from authgate.core.scope import format_scope, parse_scope
from authgate.server.context import ServerContext
from authgate.storage.base import DuplicateError

__all__ = ["add_parser", "run_resources"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    resources = sub.add_parser("resources", help="manage protected resources (APIs)")
    cmds = resources.add_subparsers(dest="action", required=True)
    create = cmds.add_parser("create", help="register a resource")
    create.add_argument(
        "identifier", help="absolute URI, e.g. urn:example:api or https://api.example.com"
    )
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        dest="scopes",
        help="a scope of this resource (repeatable)",
    )
    create.add_argument(
        "--format",
        choices=["jwt", "opaque"],
        default="jwt",
        dest="token_format",
        help="access token format (default: RFC 9068 JWT)",
    )
    create.add_argument("--ttl", type=int, default=3600, help="access token lifetime (seconds)")
    create.add_argument("--name", help="a human-readable name")
    cmds.add_parser("list", help="list resources")
    delete = cmds.add_parser("delete", help="delete a resource (its tokens stop being issued)")
    delete.add_argument("identifier")


def _resource(ctx: ServerContext, args: argparse.Namespace) -> Resource:
    try:
        identifier = validate_resource_identifier(args.identifier)
        scopes = parse_scope(" ".join(args.scopes)) if args.scopes else ()
    except OAuthError as exc:
        raise CliError(f"{exc.error}: {exc.description}") from None
    if not 30 <= args.ttl <= 86400:
        raise CliError("--ttl must be between 30 and 86400 seconds")
    return Resource(identifier, scopes, args.token_format, args.ttl, args.name, ctx.clock.now())


async def run_resources(args: argparse.Namespace, settings: Settings) -> int:
    async def act(ctx: ServerContext) -> int:
        out = sys.stdout
        if args.action == "create":
            resource = _resource(ctx, args)
            async with ctx.storage.transaction() as tx:
                try:
                    await tx.resources.add(resource)
                except DuplicateError:
                    raise CliError(f"resource {resource.identifier} already exists") from None
            out.write(
                f"created resource {resource.identifier} ({resource.token_format}, "
                f"scopes: {format_scope(resource.scopes) or '-'})\n"
            )
            return 0
        if args.action == "list":
            async with ctx.storage.transaction() as tx:
                for r in await tx.resources.list():
                    out.write(
                        f"{r.identifier}\t{r.token_format}\t{r.access_token_ttl}\t"
                        f"{format_scope(r.scopes) or '-'}\t{r.name or '-'}\n"
                    )
            return 0
        async with ctx.storage.transaction() as tx:
            if not await tx.resources.delete(args.identifier):
                raise CliError(f"no resource {args.identifier} (see: authgate resources list)")
        out.write(f"deleted resource {args.identifier}\n")
        return 0

    return await with_context(settings, act)
