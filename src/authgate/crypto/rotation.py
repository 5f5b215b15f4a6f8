"""Signing key lifecycle: which key signs, which are published, which are gone.

Per algorithm, keys are ordered by the time they start signing (``not_before``):

- ``next``: announced, not signing yet (``not_before`` in the future). Published, so relying
  parties that cache the JWKS know the key before the first token signed with it arrives.
- ``signing``: the newest key whose ``not_before`` has passed.
- ``retired``: superseded, still published until every token it signed has expired
  (``retention`` after it stopped signing).
- ``expired``: superseded longer than ``retention`` ago; no longer published.

Pure: the caller passes ``now``. Spec: OIDC Core §10.1.1 (rotation of asymmetric signing
keys: publish new keys before use, keep old ones while tokens signed with them may be
validated); RFC 7517 §5.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from authgate.core.models import SigningKeyRecord

__all__ = ["KeyLifecycle", "key_lifecycle"]


@dataclass(frozen=True, slots=True)
class KeyLifecycle:
    signing: dict[str, SigningKeyRecord]
    """The key that signs now, per algorithm."""
    published: tuple[SigningKeyRecord, ...]
    """Every key that belongs in the JWKS (next, signing, retired)."""
    states: dict[str, str]
    """State of every key by kid: next, signing, retired, expired or inactive."""


def key_lifecycle(
    records: Iterable[SigningKeyRecord], now: datetime, retention: timedelta
) -> KeyLifecycle:
    """Classify keys at ``now``; ``retention`` is the longest lifetime of a signed token."""
    by_alg: dict[str, list[SigningKeyRecord]] = {}
    states: dict[str, str] = {}
    for record in records:
        if not record.active:
            states[record.kid] = "inactive"
            continue
        by_alg.setdefault(record.alg, []).append(record)
    signing: dict[str, SigningKeyRecord] = {}
    published: list[SigningKeyRecord] = []
    for alg, keys in by_alg.items():
        keys.sort(key=lambda k: (k.signs_from, k.kid))
        started = [k for k in keys if k.signs_from <= now]
        for key in keys:
            if key.signs_from > now:
                states[key.kid] = "next"
                published.append(key)
        if not started:
            continue
        signing[alg] = started[-1]
        states[started[-1].kid] = "signing"
        published.append(started[-1])
        for older, newer in pairwise(started):
            if now < newer.signs_from + retention:
                states[older.kid] = "retired"
                published.append(older)
            else:
                states[older.kid] = "expired"
    published.sort(key=lambda k: (k.signs_from, k.kid))
    return KeyLifecycle(signing, tuple(published), states)
