"""Internal: the public names are re-exported by ``authgate.resource``.

The authorization server's JWK Set, cached, refetched on an unknown ``kid`` at most once per
``min_refetch_seconds`` so a flood of forged tokens cannot turn into a flood of fetches.

Spec: RFC 7517 §5; OIDC Core §10.1.1 (keys rotate: refetch on an unknown kid); RFC 9068 §4.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from authgate.crypto.jws import ASYMMETRIC_ALGS
from authgate.crypto.keys import Jwk

__all__ = ["JwksCache"]


class JwksCache:
    """Public keys by ``kid``, fetched from ``jwks_uri``."""

    def __init__(
        self,
        jwks_uri: str,
        *,
        http: httpx.AsyncClient | None = None,
        ttl_seconds: float = 300.0,
        min_refetch_seconds: float = 30.0,
    ) -> None:
        self.jwks_uri = jwks_uri
        self._http = http
        self._ttl = ttl_seconds
        self._min_refetch = min_refetch_seconds
        self._keys: dict[str, Jwk] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Jwk | None:
        """The key with ``kid``; refetches when the cache is stale or the kid is unknown."""
        now = time.monotonic()
        if kid in self._keys and now - self._fetched_at < self._ttl:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys and time.monotonic() - self._fetched_at < self._ttl:
                return self._keys[kid]
            # Rate-limited always, also when the set is empty or the endpoint is down: a flood
            # of forged kids must not become a flood of fetches.
            if time.monotonic() - self._fetched_at >= self._min_refetch:
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            if self._http is None:
                async with httpx.AsyncClient(timeout=5) as http:
                    response = await http.get(self.jwks_uri)
            else:
                response = await self._http.get(self.jwks_uri)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return  # keep the keys we had; tokens with unknown kids fail until next time
        self._keys = _parse(document)


def _parse(document: Any) -> dict[str, Jwk]:
    keys: dict[str, Jwk] = {}
    entries = document.get("keys", []) if isinstance(document, dict) else []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") not in ASYMMETRIC_ALGS:
            continue
        if {"d", "k"} & entry.keys():
            continue  # never accept private or symmetric material from a JWKS
        try:
            keys[entry["kid"]] = JWKRegistry.import_key(entry)  # type: ignore[assignment]
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return keys
