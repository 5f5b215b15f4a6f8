"""Signing key lifecycle. Spec: OIDC Core §10.1.1; RFC 7517 §5."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from authgate.core.models import SigningKeyRecord
from authgate.crypto.rotation import key_lifecycle

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
RET = timedelta(hours=2)


def key(kid: str, starts: datetime, alg: str = "RS256", active: bool = True) -> SigningKeyRecord:
    return SigningKeyRecord(kid, alg, "{}", T0, active=active, not_before=starts)


def test_announced_key_is_published_before_it_signs() -> None:
    keys = [key("old", T0), key("new", T0 + DAY)]
    at = key_lifecycle(keys, T0 + DAY - timedelta(seconds=1), RET)
    assert at.signing["RS256"].kid == "old"
    assert at.states == {"old": "signing", "new": "next"}
    assert [k.kid for k in at.published] == ["old", "new"]


def test_retired_key_stays_published_for_the_retention_then_goes() -> None:
    keys = [key("old", T0), key("new", T0 + DAY)]
    during = key_lifecycle(keys, T0 + DAY + RET - timedelta(seconds=1), RET)
    assert during.signing["RS256"].kid == "new"
    assert during.states["old"] == "retired"
    assert {k.kid for k in during.published} == {"old", "new"}
    after = key_lifecycle(keys, T0 + DAY + RET, RET)
    assert after.states["old"] == "expired"
    assert [k.kid for k in after.published] == ["new"]


def test_algorithms_are_independent_and_inactive_keys_ignored() -> None:
    keys = [key("rs", T0), key("es", T0, "ES256"), key("off", T0, "EdDSA", active=False)]
    state = key_lifecycle(keys, T0, RET)
    assert set(state.signing) == {"RS256", "ES256"}
    assert state.states["off"] == "inactive"


def test_created_at_is_the_start_when_not_before_is_unset() -> None:
    legacy = SigningKeyRecord("legacy", "RS256", "{}", T0)
    assert key_lifecycle([legacy], T0, RET).signing["RS256"].kid == "legacy"


def test_only_pending_keys_means_no_signing_key_yet() -> None:
    state = key_lifecycle([key("future", T0 + DAY)], T0, RET)
    assert state.signing == {}
    assert state.states == {"future": "next"}
