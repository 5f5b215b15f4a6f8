"""Fetching a client's ``jwks_uri`` without becoming an SSRF proxy.

Only https URLs whose host resolves exclusively to public addresses are fetched; no redirects,
a small size limit, a short timeout, and a cache so a client cannot make the server fetch on
every request.

Spec: RFC 7591 §2 (jwks_uri); OIDC Core §10.1.1; RFC 9700 §4 / OIDC Core §16 (SSRF).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from authgate.core.registration import is_public_https_url

__all__ = ["RemoteJwksError", "RemoteJwksFetcher"]

_MAX_BYTES = 64 * 1024
_MIN_REFRESH_SECONDS = 60.0
_FAILURE_SECONDS = 30.0


class RemoteJwksError(Exception):
    """The client's JWK Set could not be fetched or is not allowed."""


class RemoteJwksFetcher:
    """Fetches and caches JWK Sets by URL: one fetch at a time per URL, failures remembered
    for a while, and an overall deadline per fetch."""

    def __init__(self, ttl_seconds: float = 300.0, timeout_seconds: float = 3.0) -> None:
        self._ttl = ttl_seconds
        self._timeout = timeout_seconds
        self._cache: dict[str, tuple[float, dict[str, Any] | RemoteJwksError]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, url: str) -> dict[str, Any] | None:
        """The cached key set, if fresh; never fetches."""
        entry = self._cache.get(url)
        if entry and isinstance(entry[1], dict) and time.monotonic() - entry[0] < self._ttl:
            return entry[1]
        return None

    async def get(self, url: str, *, refresh: bool = False) -> dict[str, Any]:
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            entry = self._cache.get(url)
            if entry:
                age = time.monotonic() - entry[0]
                # Failures are remembered briefly; a forced refresh (unknown key) is honoured
                # at most once a minute per URL: a stream of bad assertions cannot turn the
                # server into a fetching machine.
                if isinstance(entry[1], RemoteJwksError) and age < _FAILURE_SECONDS:
                    raise entry[1]
                if isinstance(entry[1], dict) and age < (
                    _MIN_REFRESH_SECONDS if refresh else self._ttl
                ):
                    return entry[1]
            try:
                async with asyncio.timeout(self._timeout * 2):
                    result: dict[str, Any] | RemoteJwksError = await self._fetch(url)
            except TimeoutError:
                result = RemoteJwksError("jwks_uri took too long")
            except RemoteJwksError as exc:
                result = exc
            if len(self._cache) > 1000:
                self._cache.clear()
                self._locks = {url: lock}
            self._cache[url] = (time.monotonic(), result)
        if isinstance(result, RemoteJwksError):
            raise result
        return result

    async def _fetch(self, url: str) -> dict[str, Any]:
        if not is_public_https_url(url):
            raise RemoteJwksError("jwks_uri is not a public https URL")
        parts = urlsplit(url)
        await self._check_resolution(parts.hostname or "", parts.port or 443)
        try:
            async with (
                httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as http,
                http.stream("GET", url, headers={"accept": "application/json"}) as r,
            ):
                if r.status_code != 200:
                    raise RemoteJwksError(f"jwks_uri answered {r.status_code}")
                body = b""
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > _MAX_BYTES:
                        raise RemoteJwksError("jwks_uri response is too large")
        except httpx.HTTPError as exc:
            raise RemoteJwksError("jwks_uri could not be fetched") from exc
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RemoteJwksError("jwks_uri did not return JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise RemoteJwksError("jwks_uri did not return a JWK Set")
        return data

    @staticmethod
    async def _check_resolution(host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise RemoteJwksError("jwks_uri host does not resolve") from exc
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise RemoteJwksError("jwks_uri resolves to a non-public address")
