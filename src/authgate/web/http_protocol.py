"""uvicorn's httptools protocol, sending each response's head and body in one write.

uvicorn writes the status line and headers when the application sends
``http.response.start``, then the body on ``http.response.body``: two ``write`` calls, so
with ``TCP_NODELAY`` two segments, two wake-ups of the peer and two trips through the
kernel's TCP stack for every small response. Measured under load on one core (perf), those
writes were about a tenth of the server's CPU time; discovery went from ~31,000 to ~45,000
responses/s with one write per response.

The head waits for the same response's next write at most until the end of the current
event-loop step, or until the response completes or the connection closes, whichever comes
first: so the bytes and their order are uvicorn's, only in one write instead of two, and a
streamed response's head is not held while the application prepares its first chunk. An
interim response (``100 Continue``, RFC 9110 §15.2) is never held.

This leans on uvicorn's request cycle (``_start_asgi_task``, ``cycle.transport``,
``cycle.on_response``; checked against 0.54): ``tests/unit/web/test_http_protocol.py``
counts the socket writes through a real uvicorn server, so a change there fails the suite
instead of silently restoring two writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

__all__ = ["HttpProtocol", "OneWriteTransport"]

_INTERIM = b"HTTP/1.1 1"
_JOIN_LIMIT = 64 * 1024
"""Bodies up to this size are joined to the head (one copy); larger ones follow it."""


class OneWriteTransport:
    """One response's view of the connection's transport (``write``, ``close`` and
    ``is_closing``, all that uvicorn's request cycle uses): the first write that is not an
    interim response, the head, waits for the next write, ``flush`` or ``close``."""

    __slots__ = ("_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        # b"": nothing written yet; bytes: the head, held; None: the head has left.
        self._head: bytes | None = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        head = self._head
        if head is None:
            self._transport.write(data)
        elif head:
            self._head = None
            if len(data) <= _JOIN_LIMIT:
                self._transport.write(head + bytes(data))
            else:
                self._transport.write(head)
                self._transport.write(data)
        elif bytes(data[: len(_INTERIM)]) == _INTERIM:
            self._transport.write(data)
        else:
            self._head = bytes(data)
            # A body written in this same step (the usual case) makes this a no-op.
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send a held head now."""
        head = self._head
        if head:
            self._head = None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()


class HttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose request cycles write through a ``OneWriteTransport``."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        transport = OneWriteTransport(cycle.transport, self.loop)
        cycle.transport = transport  # type: ignore[assignment]
        cycle.on_response = _flushing(transport, cycle.on_response)
        super()._start_asgi_task(cycle, app)


def _flushing(transport: OneWriteTransport, on_response: Callable[[], None]) -> Callable[[], None]:
    """A completed response with no body write (HEAD, a 1xx the application sent) still sends
    its head before the connection moves on to the next request."""

    def flush_then_continue() -> None:
        transport.flush()
        on_response()

    return flush_then_continue
