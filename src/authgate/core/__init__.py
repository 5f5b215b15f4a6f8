"""The OAuth 2.1 / OpenID Connect protocol core: pure, synchronous, deterministic.

No I/O, no web framework, no database, no clock and no randomness of its own:
time and random values are passed in by the caller (see ``core/README.md``).
"""
