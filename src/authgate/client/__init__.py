"""authgate.client: the relying-party (client) side of the authorization code flow.

Async-first (``Client``) with a synchronous facade (``SyncClient``); tokens stay server-side
(``TokenStore``); ``RefreshingAuth`` makes an httpx client call APIs and refresh on 401.
See docs/client.md.
"""

from authgate.client.async_client import Client
from authgate.client.auth import RefreshingAuth
from authgate.client.errors import (
    AuthorizationError,
    ClientError,
    DiscoveryError,
    IdTokenError,
    IssuerMismatch,
    StateMismatch,
    TokenError,
)
from authgate.client.protocol import ClientCredentials, FlowState, TokenSet
from authgate.client.store import MemoryTokenStore, TokenStore
from authgate.client.sync import SyncClient

__all__ = [
    "AuthorizationError",
    "Client",
    "ClientCredentials",
    "ClientError",
    "DiscoveryError",
    "FlowState",
    "IdTokenError",
    "IssuerMismatch",
    "MemoryTokenStore",
    "RefreshingAuth",
    "StateMismatch",
    "SyncClient",
    "TokenError",
    "TokenSet",
    "TokenStore",
]
