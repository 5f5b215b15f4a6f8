"""Internal: the public names are re-exported by ``authgate.client``.

Where a relying party keeps tokens: server-side, never in the browser."""

from __future__ import annotations

from typing import Protocol

from authgate.client.protocol import TokenSet

__all__ = ["MemoryTokenStore", "TokenStore"]


class TokenStore(Protocol):
    async def get(self, key: str) -> TokenSet | None: ...
    async def set(self, key: str, tokens: TokenSet) -> None: ...
    async def delete(self, key: str) -> None: ...


class MemoryTokenStore:
    """A process-local store (for one process; use a shared store for several)."""

    def __init__(self) -> None:
        self._tokens: dict[str, TokenSet] = {}

    async def get(self, key: str) -> TokenSet | None:
        return self._tokens.get(key)

    async def set(self, key: str, tokens: TokenSet) -> None:
        self._tokens[key] = tokens

    async def delete(self, key: str) -> None:
        self._tokens.pop(key, None)
