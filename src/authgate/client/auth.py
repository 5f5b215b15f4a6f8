"""Internal: the public names are re-exported by ``authgate.client``.

An ``httpx.Auth`` that sends the user's access token and, on a 401 or when it has expired,
refreshes once (one refresh at a time per token set, so parallel requests do not trip refresh
token reuse detection) and retries.

Spec: RFC 6750 §2.1; RFC 6749 §6; RFC 9700 §4.14.2 (rotation: use each refresh token once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import AsyncGenerator

import httpx

from authgate.client.async_client import Client
from authgate.client.errors import IdTokenError, TokenError
from authgate.client.protocol import TokenSet
from authgate.client.store import TokenStore

__all__ = ["RefreshingAuth"]


_LOCKS: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock_for(store: TokenStore, key: str) -> asyncio.Lock:
    """One lock per (store, key), shared by every RefreshingAuth of that token set, so that
    parallel requests refresh once even when each builds its own auth object."""
    ident = (id(store), key)
    lock = _LOCKS.get(ident)
    if lock is None:
        lock = asyncio.Lock()
        _LOCKS[ident] = lock
    return lock


class RefreshingAuth(httpx.Auth):
    """Bearer authentication from ``store[key]``, refreshing through ``client``."""

    def __init__(self, client: Client, store: TokenStore, key: str) -> None:
        self.client = client
        self.store = store
        self.key = key
        self._lock = _lock_for(store, key)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        tokens = await self.store.get(self.key)
        if tokens is None:
            raise TokenError("login_required", "no tokens for this session", 401)
        if tokens.expired and tokens.refresh_token:
            tokens = await self._refresh(tokens.access_token)
        request.headers["authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401 and tokens.refresh_token:
            tokens = await self._refresh(tokens.access_token)
            request.headers["authorization"] = f"Bearer {tokens.access_token}"
            yield request

    async def _refresh(self, failed_access_token: str) -> TokenSet:
        async with self._lock:
            current = await self.store.get(self.key)
            if current is None:
                raise TokenError("login_required", "the session ended", 401)
            if current.access_token != failed_access_token:
                return current  # another request refreshed meanwhile
            try:
                fresh = await self.client.refresh(current)
            except IdTokenError as exc:
                if isinstance(exc.token_set, TokenSet):
                    # Keep the rotated refresh token (the old one is spent), then report.
                    kept = dataclasses.replace(exc.token_set, claims=current.claims)
                    await self.store.set(self.key, kept)
                raise
            except TokenError as exc:
                if exc.error == "invalid_grant":
                    await self.store.delete(self.key)  # the grant is gone: sign in again
                raise
            await self.store.set(self.key, fresh)
            return fresh
