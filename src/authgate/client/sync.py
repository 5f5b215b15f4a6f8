"""Internal: the public names are re-exported by ``authgate.client``.

A synchronous facade over ``Client`` for scripts and WSGI apps: every call runs on one
private event loop in a background thread, so the protocol logic exists once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar, Unpack

from authgate.client.async_client import Client, ProviderOptions
from authgate.client.protocol import FlowState, TokenSet

__all__ = ["SyncClient"]

T = TypeVar("T")


class SyncClient:
    """``SyncClient.from_issuer(...)``, then the same methods as ``Client``, without await."""

    def __init__(
        self, client: Client, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self._client = client
        self._loop = loop
        self._thread = thread

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        **options: Unpack[ProviderOptions],
    ) -> SyncClient:
        """Discover the provider on a new background loop; the options of
        ``Client.from_issuer``."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        future = asyncio.run_coroutine_threadsafe(
            Client.from_issuer(issuer, client_id, client_secret, **options), loop
        )
        try:
            client = future.result(timeout=30)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            raise
        return cls(client, loop, thread)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=60)

    @property
    def metadata(self) -> dict[str, Any]:
        return self._client.metadata

    def start_authorization(
        self, redirect_uri: str, scope: str = "openid", **extra: str
    ) -> tuple[str, FlowState]:
        return self._client.start_authorization(redirect_uri, scope, **extra)

    def finish_authorization(self, callback_url: str, flow: FlowState) -> TokenSet:
        return self._run(self._client.finish_authorization(callback_url, flow))

    def refresh(self, tokens: TokenSet | str, scope: str | None = None) -> TokenSet:
        return self._run(self._client.refresh(tokens, scope))

    def client_credentials(self, scope: str | None = None, **extra: str) -> TokenSet:
        return self._run(self._client.client_credentials(scope, **extra))

    def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        self._run(self._client.revoke(token, token_type_hint))

    def introspect(self, token: str) -> dict[str, Any]:
        return self._run(self._client.introspect(token))

    def userinfo(self, access_token: str, expected_sub: str | None = None) -> dict[str, Any]:
        return self._run(self._client.userinfo(access_token, expected_sub))

    def close(self) -> None:
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
