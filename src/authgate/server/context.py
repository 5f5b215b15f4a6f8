"""Everything a use case needs, built once by ``bootstrap`` and shared by all requests."""

from __future__ import annotations

from dataclasses import dataclass, field

from authgate.config import Settings
from authgate.crypto.hashing import PasswordHashing, TokenHasher
from authgate.crypto.keys import KeyEncryptor, KeySet
from authgate.crypto.sealed import AccessTokenSealer
from authgate.crypto.tokens import RandomSource
from authgate.server.ports import Clock, EventSink
from authgate.storage.base import Storage

__all__ = ["Endpoints", "ServerContext"]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Absolute URLs of the server's endpoints, derived from the issuer."""

    issuer: str
    base: str
    prefix: str

    @classmethod
    def for_settings(cls, settings: Settings) -> Endpoints:
        return cls(settings.issuer, settings.base_url, settings.path_prefix)

    @property
    def authorization(self) -> str:
        return self.base + "/authorize"

    @property
    def token(self) -> str:
        return self.base + "/token"

    @property
    def userinfo(self) -> str:
        return self.base + "/userinfo"

    @property
    def jwks(self) -> str:
        return self.base + "/jwks"

    @property
    def introspection(self) -> str:
        return self.base + "/introspect"

    @property
    def revocation(self) -> str:
        return self.base + "/revoke"

    @property
    def registration(self) -> str:
        return self.base + "/register"

    def login_path(self, interaction_id: str) -> str:
        return f"{self.prefix}/login/{interaction_id}"

    def consent_path(self, interaction_id: str) -> str:
        return f"{self.prefix}/consent/{interaction_id}"


@dataclass(slots=True)
class ServerContext:
    """Shared services. ``keys`` is replaced (not mutated) when the key set is reloaded."""

    settings: Settings
    storage: Storage
    clock: Clock
    random: RandomSource
    hash_token: TokenHasher
    seal: AccessTokenSealer
    passwords: PasswordHashing
    keys: KeySet
    events: EventSink
    endpoints: Endpoints
    supported_scopes: frozenset[str]
    discovery_json: bytes = b""
    csrf_key: bytes = field(default=b"", repr=False)
    key_encryptor: KeyEncryptor = field(default_factory=lambda: KeyEncryptor(None), repr=False)
