"""What use cases need from the outside world besides storage: time and an audit trail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = ["Clock", "EventSink", "LogEvents", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class EventSink(Protocol):
    """Receives audit events (sign-ins, token issuance, replays). Never given secrets."""

    def emit(self, name: str, **fields: Any) -> None: ...


class LogEvents:
    """Audit events as log records on the ``authgate.events`` logger."""

    def __init__(self) -> None:
        self._log = logging.getLogger("authgate.events")

    def emit(self, name: str, **fields: Any) -> None:
        level = (
            logging.WARNING
            if name.endswith(("replayed", "reused", "throttled", "failed"))
            else logging.INFO
        )
        if self._log.isEnabledFor(level):  # events are on every token request's path
            detail = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
            self._log.log(level, "%s %s", name, detail)
