"""The token endpoint's grants, one module each, found by ``grant_type`` in one table
(design note 0011): a new grant is one module and one line here.

Spec: RFC 6749 §4.1.3, §4.4.2, §6.
"""

from __future__ import annotations

from typing import Any

from authgate.core.models import GrantType
from authgate.server.grants import authorization_code, client_credentials, refresh_token
from authgate.server.grants.base import Grant

__all__ = ["GRANTS", "Grant"]

GRANTS: dict[str, Grant[Any]] = {
    GrantType.AUTHORIZATION_CODE.value: authorization_code.GRANT,
    GrantType.REFRESH_TOKEN.value: refresh_token.GRANT,
    GrantType.CLIENT_CREDENTIALS.value: client_credentials.GRANT,
}
