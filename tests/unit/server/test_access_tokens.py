"""Token minting invariants the storage relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from authgate.server.access_tokens import issue_access_token


async def test_a_user_token_without_its_grant_is_refused() -> None:
    """Revoking a user's access tokens finds them through the user's grants (migration 0007),
    so a token for a user must carry its grant; refusing it is cheaper than an unrevocable
    token."""
    nothing: Any = None
    with pytest.raises(ValueError, match="grant"):
        await issue_access_token(
            nothing,
            nothing,
            client_id="client",
            user_id="user",
            grant_id=None,
            family_id=None,
            scopes=("openid",),
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
