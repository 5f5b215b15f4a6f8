"""Runnable examples: a notes web app and a notes API protected by authgate (see demo.py)."""
