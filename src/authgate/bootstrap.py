"""Composition root: builds every service from ``Settings``. Only this module and ``cli``
know all the layers."""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence

import orjson

from authgate.config import Settings, load_settings
from authgate.core.discovery import server_metadata
from authgate.core.models import AuthMethod, GrantType
from authgate.core.scope import OIDC_SCOPES
from authgate.crypto.hashing import PasswordHashing, TokenHasher
from authgate.crypto.keys import KeyEncryptor, KeySet
from authgate.crypto.sealed import AccessTokenSealer
from authgate.crypto.tokens import SystemRandom
from authgate.server.access_tokens import ACCESS_TOKEN_PREFIX
from authgate.server.client_auth import ASSERTION_ALGS
from authgate.server.context import Endpoints, ServerContext
from authgate.server.keys import ensure_keys
from authgate.server.ports import LogEvents, SystemClock
from authgate.storage.sql import open_storage, schema_state, upgrade
from authgate.web.app import create_app
from authgate.web.routes import Route
from authgate.web.security import SecurityHeaders

__all__ = [
    "SchemaError",
    "app_factory",
    "build_context",
    "create_server_app",
    "prepare_database",
]

log = logging.getLogger("authgate")


class SchemaError(Exception):
    """The database schema is not the one this version expects."""


async def prepare_database(settings: Settings) -> None:
    """Migrate (when allowed) and check the schema version. Never runs on a newer schema."""
    state = await schema_state(settings.database_url)
    if state == "newer":
        raise SchemaError(
            "the database schema is newer than this authgate version: upgrade authgate"
        )
    if state != "current":
        if not settings.auto_migrate:
            raise SchemaError(f"the database schema is {state}: run `authgate db upgrade` first")
        await upgrade(settings.database_url)


# Only scopes the server can honour: address and phone would release claims users do not have.
SERVER_SCOPES = tuple(s for s in OIDC_SCOPES if s not in ("address", "phone"))


def supported_scopes(settings: Settings) -> frozenset[str]:
    return frozenset(SERVER_SCOPES) | frozenset(settings.extra_scopes)


def discovery_document(settings: Settings, endpoints: Endpoints, keys: KeySet) -> bytes:
    scopes = SERVER_SCOPES + tuple(s for s in settings.extra_scopes if s not in SERVER_SCOPES)
    meta = server_metadata(
        issuer=endpoints.issuer,
        authorization_endpoint=endpoints.authorization,
        token_endpoint=endpoints.token,
        userinfo_endpoint=endpoints.userinfo,
        introspection_endpoint=endpoints.introspection,
        revocation_endpoint=endpoints.revocation,
        jwks_uri=endpoints.jwks,
        registration_endpoint=endpoints.registration if settings.registration_token else None,
        scopes=scopes,
        signing_algs=keys.algorithms,
        auth_methods=tuple(m.value for m in AuthMethod),
        auth_methods_confidential=tuple(m.value for m in AuthMethod if m is not AuthMethod.NONE),
        assertion_algs=tuple(sorted(ASSERTION_ALGS)),
        grant_types=tuple(g.value for g in GrantType),
    )
    return orjson.dumps(meta)


async def build_context(settings: Settings) -> ServerContext:
    """Open storage, load secrets and keys, prebuild discovery: everything requests share."""
    await prepare_database(settings)
    # One process writes the SQLite file: its transactions are committed in batches. Several
    # (``--workers``) would each hold the write lock for a whole batch, so they do not.
    storage = await open_storage(settings.database_url, group_commit=settings.workers == 1)
    random = SystemRandom()
    async with storage.transaction() as tx:
        hash_key = await tx.secrets.get_or_create("token_hash_key", random.key)
        # Its own secret, not one derived from the hashing key: it can be rotated alone
        # (ending every sealed access token, which live a day at most), and with a
        # key-encryption key the database alone does not give it away (KeyEncryptor.derive).
        seal_secret = await tx.secrets.get_or_create("access_token_seal_key", random.key)
    encryptor = KeyEncryptor(
        settings.key_encryption_key.get_secret_value() if settings.key_encryption_key else None
    )
    keys = await ensure_keys(settings, storage, encryptor, SystemClock().now())
    hasher = TokenHasher(hash_key)
    endpoints = Endpoints.for_settings(settings)
    return ServerContext(
        settings=settings,
        storage=storage,
        clock=SystemClock(),
        random=random,
        hash_token=hasher,
        # Every node shares the stored secret (and the key-encryption key, if any).
        seal=AccessTokenSealer(
            encryptor.derive(seal_secret, b"authgate access tokens v1"), ACCESS_TOKEN_PREFIX
        ),
        passwords=PasswordHashing(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        keys=keys,
        events=LogEvents(),
        endpoints=endpoints,
        supported_scopes=supported_scopes(settings),
        discovery_json=discovery_document(settings, endpoints, keys),
        csrf_key=hasher.derive("csrf"),
        key_encryptor=encryptor,
    )


def create_server_app(
    settings: Settings, extra_routes: Sequence[Route] | None = None
) -> SecurityHeaders:
    """The ASGI application for ``settings``; its context is built at startup. ``extra_routes``
    are entries of the same route table (``authgate.web.routes``), served beside the server's."""

    async def build() -> ServerContext:
        return await build_context(settings)

    return create_app(settings, build, extra_routes)


def app_factory() -> SecurityHeaders:
    """Entry point for uvicorn workers (``authgate.bootstrap:app_factory``, factory=True):
    each worker reads its settings from the environment, which ``authgate serve`` prepares."""
    settings = load_settings()

    async def build() -> ServerContext:
        ctx = await build_context(settings)
        freeze_startup_heap()
        return ctx

    return create_app(settings, build)


def freeze_startup_heap() -> None:
    """Leave what startup built (modules, schema, compiled statements, keys: objects that live
    as long as the process) out of the cyclic garbage collector's full collections.

    A full collection walks every tracked object; under load one took ~140 ms on this
    process's heap, stalling every request in flight (bench/README.md). After ``gc.freeze``
    it walks only what came later. The process's own objects are still freed by reference
    counting as before; only cycles among the frozen ones would never be collected.
    """
    gc.collect()
    gc.freeze()
