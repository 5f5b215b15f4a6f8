"""Entry point of the ``authgate`` command. Errors are one line on stderr, exit status 1."""

from __future__ import annotations

import argparse
import logging
import sys

from authgate.cli import clients, db, demo, keys, resources, serve, tokens, users
from authgate.cli.common import CliError, run
from authgate.config import ConfigError, load_settings

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authgate",
        description="OAuth 2.1 / OpenID Connect authorization server. Configuration comes from "
        "AUTHGATE_* environment variables and the TOML file named by AUTHGATE_CONFIG.",
    )
    parser.add_argument("--config", help="TOML configuration file (sets AUTHGATE_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(sub)
    demo.add_parser(sub)
    users.add_parser(sub)
    clients.add_parser(sub)
    keys.add_parser(sub)
    resources.add_parser(sub)
    tokens.add_parser(sub)
    db.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.config:
            import os

            os.environ["AUTHGATE_CONFIG"] = args.config
        if args.command == "serve":
            return serve.serve(load_settings(**serve.overrides(args)))
        if args.command == "demo":
            return demo.run_demo(args)
        settings = load_settings()
        handlers = {
            "users": users.run_users,
            "clients": clients.run_clients,
            "keys": keys.run_keys,
            "db": db.run_db,
            "tokens": tokens.run_tokens,
            "resources": resources.run_resources,
        }
        return run(handlers[args.command](args, settings))
    except (CliError, ConfigError) as exc:
        sys.stderr.write(f"authgate: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Never a traceback for an operator: name the problem in one line.
        from authgate.bootstrap import SchemaError
        from authgate.crypto.keys import KeyDecryptionError
        from authgate.storage.base import StorageUnavailable

        if isinstance(exc, SchemaError | KeyDecryptionError | StorageUnavailable | ValueError):
            sys.stderr.write(f"authgate: {exc}\n")
            return 1
        sys.stderr.write(f"authgate: unexpected error: {type(exc).__name__}: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
