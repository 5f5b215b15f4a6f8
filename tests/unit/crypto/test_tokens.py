"""Random values: tokens, identifiers, keys."""

from __future__ import annotations

import re
import time

from authgate.crypto.tokens import SystemRandom


def test_tokens_carry_256_bits_after_their_prefix_and_time_rfc6749_10_10() -> None:
    token = SystemRandom().token("agat_")
    match = re.fullmatch(r"agat_([0-9a-f]{12})\.([A-Za-z0-9_-]{43})", token)
    assert match is not None  # 32 random bytes, base64url without padding
    assert abs(int(match.group(1), 16) - time.time_ns() // 1_000_000) < 60_000
    assert len({SystemRandom().token() for _ in range(1000)}) == 1000


def test_client_secrets_carry_256_bits_and_no_time_rfc6749_10_10() -> None:
    secret = SystemRandom().secret("agcs_")
    assert re.fullmatch(r"agcs_[A-Za-z0-9_-]{43}", secret)


def test_sortable_identifiers_follow_creation_time_and_stay_unique() -> None:
    """Family ids: ordered by creation time (index locality), with 80 random bits."""
    random = SystemRandom()
    before = time.time_ns() // 1_000_000
    first = random.sortable_identifier()
    time.sleep(0.002)
    second = random.sortable_identifier()
    after = time.time_ns() // 1_000_000
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first < second  # in byte order, and in any collation of 0-9 and a-f
    assert before <= int(first[:12], 16) <= int(second[:12], 16) <= after
    same_millisecond = {random.sortable_identifier() for _ in range(1000)}
    assert len(same_millisecond) == 1000
