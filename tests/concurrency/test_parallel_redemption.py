"""Parallel redemption of one authorization code over real HTTP: exactly one success.

Spec: RFC 6749 §4.1.2 ("MUST NOT use the authorization code more than once"), §10.5.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.protocol.helpers import auth_params, exchange, sign_in_and_consent
from tests.support.flow import Browser
from tests.support.live import LiveServer

PARALLEL = 12


def test_rfc6749_4_1_2_parallel_redemptions_have_one_winner(
    live: LiveServer, browser: Browser, register_client: Any, make_user: Any
) -> None:
    client = register_client()
    params, verifier = auth_params(client)
    code = sign_in_and_consent(browser, params, make_user()).params["code"]

    def redeem(_: int) -> int:
        with httpx.Client(base_url=live.url, timeout=30) as api:
            return exchange(api, client, code, verifier).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(redeem, range(PARALLEL)))
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == PARALLEL - 1, statuses
