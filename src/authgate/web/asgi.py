"""ASGI entry point for uvicorn workers: ``authgate.web.asgi:app_factory`` (factory=True).

Each worker reads its settings from the environment, which ``authgate serve`` prepares.
"""

from __future__ import annotations

from authgate.config import load_settings
from authgate.web.app import create_app
from authgate.web.security import SecurityHeaders

__all__ = ["app_factory"]


def app_factory() -> SecurityHeaders:
    return create_app(load_settings())
