"""``authgate clients``: create, list, show, delete."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson

from authgate.cli.common import CliError, command
from authgate.core.errors import OAuthError
from authgate.core.registration import validate_metadata
from authgate.server.context import ServerContext
from authgate.server.register import client_metadata_json, create_client

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clients = sub.add_parser("clients", help="manage OAuth clients")
    cmds = clients.add_subparsers(dest="action", required=True)
    create = cmds.add_parser("create", help="register a client; prints its secret once")
    create.add_argument("--name", required=True, help="client_name shown on the consent page")
    create.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        dest="redirect_uris",
        help="a redirect URI (repeatable)",
    )
    create.add_argument(
        "--auth-method",
        default="client_secret_basic",
        choices=["client_secret_basic", "client_secret_post", "none"],
        help="token endpoint authentication method (none = public client)",
    )
    create.add_argument(
        "--grant-type",
        action="append",
        dest="grant_types",
        help="grant type (repeatable; default authorization_code)",
    )
    create.add_argument("--scope", help="space-separated scopes the client may request")
    create.add_argument("--native", action="store_true", help="application_type native")
    create.add_argument("--client-id", help="use this client_id instead of a random one")
    create.add_argument("--id-token-alg", choices=["RS256", "ES256", "EdDSA"])
    cmds.add_parser("list", help="list clients")
    for action in ("show", "delete"):
        cmd = cmds.add_parser(action, help=f"{action} a client")
        cmd.add_argument("client_id")


def _metadata(args: argparse.Namespace) -> dict[str, Any]:
    grant_types = args.grant_types or ["authorization_code"]
    body: dict[str, Any] = {
        "client_name": args.name,
        "redirect_uris": args.redirect_uris,
        "token_endpoint_auth_method": args.auth_method,
        "grant_types": grant_types,
        "response_types": ["code"] if "authorization_code" in grant_types else [],
        "application_type": "native" if args.native else "web",
    }
    if args.scope:
        body["scope"] = args.scope
    if args.id_token_alg:
        body["id_token_signed_response_alg"] = args.id_token_alg
    return body


async def _dispatch(ctx: ServerContext, args: argparse.Namespace) -> int:
    out = sys.stdout
    if args.action == "create":
        try:
            metadata = validate_metadata(_metadata(args), ctx.keys.algorithms)
            client, secret = await create_client(ctx, metadata, args.client_id)
        except OAuthError as exc:
            raise CliError(f"{exc.error}: {exc.description}") from None
        out.write(
            orjson.dumps(client_metadata_json(client, secret), option=orjson.OPT_INDENT_2).decode()
            + "\n"
        )
        if secret:
            out.write("The client_secret is shown only this once; store it now.\n")
        return 0
    if args.action == "list":
        async with ctx.storage.transaction() as tx:
            clients = await tx.clients.list()
        for c in clients:
            out.write(
                f"{c.client_id}\t{c.client_name or '-'}\t"
                f"{c.token_endpoint_auth_method.value}\t{' '.join(c.redirect_uris)}\n"
            )
        return 0
    async with ctx.storage.transaction() as tx:
        if args.action == "show":
            found = await tx.clients.get(args.client_id)
            if found is None:
                raise CliError(f"no client {args.client_id!r} (see: authgate clients list)")
            out.write(
                orjson.dumps(client_metadata_json(found, None), option=orjson.OPT_INDENT_2).decode()
                + "\n"
            )
            return 0
        if not await tx.clients.delete(args.client_id):
            raise CliError(f"no client {args.client_id!r} (see: authgate clients list)")
    out.write(f"deleted client {args.client_id} and everything issued to it\n")
    return 0


run_clients = command(_dispatch)
