"""Shared Hypothesis settings and strategies for the unit suite."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

# Deterministic (derandomize), fast (modest example count), no on-disk example database.
PROPERTY = settings(max_examples=200, deadline=None, database=None, derandomize=True)

# Text that can be UTF-8 encoded (no lone surrogates).
encodable_text = st.text(st.characters(blacklist_categories=("Cs",)))
