"""The storage contract suite: every test runs on each SQL backend (SQLite and PostgreSQL)."""
