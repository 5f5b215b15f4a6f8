"""Private: the SQL storage's execution machinery (prepared statements, the SQLite and asyncpg
executors, group commit and checkpoints, the barging lock, the client cache and its change
notices). Only ``authgate.storage.sql``'s own modules import it; its rules are in README.md
beside this file.
"""
