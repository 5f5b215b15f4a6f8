"""One write per response: the head waits for the body, nothing else changes."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn

from authgate.web.http_protocol import HttpProtocol, OneWriteTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class FakeLoop:
    def __init__(self) -> None:
        self.soon: list[Any] = []

    def call_soon(self, callback: Any) -> None:
        self.soon.append(callback)

    def end_of_step(self) -> None:
        callbacks, self.soon = self.soon, []
        for callback in callbacks:
            callback()


def _wrap() -> tuple[FakeTransport, OneWriteTransport, FakeLoop]:
    fake, loop = FakeTransport(), FakeLoop()
    return fake, OneWriteTransport(fake, loop), loop  # type: ignore[arg-type]


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def test_head_and_body_leave_in_one_write() -> None:
    fake, transport, loop = _wrap()
    transport.write(HEAD)
    assert fake.writes == []
    transport.write(b"{}")
    assert fake.writes == [HEAD + b"{}"]
    loop.end_of_step()
    assert fake.writes == [HEAD + b"{}"]


def test_a_head_is_held_no_longer_than_the_loop_step() -> None:
    fake, transport, loop = _wrap()
    transport.write(HEAD)
    loop.end_of_step()
    assert fake.writes == [HEAD]
    transport.write(b"{}")
    assert fake.writes == [HEAD, b"{}"]


def test_a_large_body_follows_the_head_without_a_copy() -> None:
    fake, transport, _loop = _wrap()
    body = b"x" * (1024 * 1024)
    transport.write(HEAD)
    transport.write(body)
    assert fake.writes == [HEAD, body]


def test_later_body_chunks_are_written_as_they_come() -> None:
    fake, transport, _loop = _wrap()
    for chunk in (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", b"1", b"2", b"3"):
        transport.write(chunk)
    assert fake.writes == [b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1", b"2", b"3"]


def test_an_empty_body_still_sends_the_head() -> None:
    fake, transport, _loop = _wrap()
    transport.write(HEAD)
    transport.write(b"")
    assert fake.writes == [HEAD]


def test_interim_100_continue_is_not_held_back() -> None:
    fake, transport, _loop = _wrap()
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert fake.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    transport.write(HEAD)
    transport.write(b"{}")
    assert fake.writes[1:] == [HEAD + b"{}"]


def test_close_flushes_a_held_head_first() -> None:
    fake, transport, _loop = _wrap()
    transport.write(HEAD)
    transport.close()
    assert fake.writes == [HEAD]
    assert fake.closed and transport.is_closing()


def test_close_without_a_write_writes_nothing() -> None:
    fake, transport, _loop = _wrap()
    transport.close()
    assert fake.writes == [] and fake.closed


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.3)  # the head must not wait for this
        for part in (b"a", b"b"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["path"] == "/fail-after-head":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("the application failed after starting its answer")
    payload = b"echo:" + body
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


@pytest.fixture(scope="module")
def server_port() -> Any:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=port, http=HttpProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.025)
    assert server.started
    yield port
    server.should_exit = True
    thread.join(timeout=10)


_unread: dict[int, bytes] = {}


def _read_response(sock: socket.socket) -> bytes:
    """Exactly one content-length response; what follows it stays for the next call."""
    data = _unread.pop(sock.fileno(), b"")
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    _unread[sock.fileno()] = rest[length:]
    return head + b"\r\n\r\n" + rest[:length]


def test_keep_alive_pipelining_and_100_continue_through_uvicorn(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        # Two pipelined requests on one connection: each answer whole, in order.
        sock.sendall(
            b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\n1"
            b"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\n2"
        )
        first = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"echo:1")
        second = _read_response(sock)
        assert second.endswith(b"echo:2")
        # Expect: 100-continue gets its interim answer before the body is sent.
        sock.sendall(
            b"POST /c HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n"
        )
        interim = sock.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"ok")
        assert _read_response(sock).endswith(b"echo:ok")


def test_streamed_response_head_is_not_held_for_the_body(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        sock.settimeout(0.2)  # the body comes 0.3 s after the head
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"\r\n\r\n")
        sock.settimeout(10)
        data = first
        while chunk := sock.recv(65536):
            data += chunk
    assert b"transfer-encoding: chunked" in data
    assert data.endswith(b"1\r\na\r\n1\r\nb\r\n0\r\n\r\n")


def test_head_request_on_a_kept_alive_connection(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(b"HEAD /h HTTP/1.1\r\nhost: x\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200") and b"content-length: 5" in head
        # The connection stays usable, and the next answer is the next request's.
        sock.sendall(b"POST /n HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\nq")
        assert _read_response(sock).endswith(b"echo:q")


def test_connection_close_sends_the_whole_answer_then_closes(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(
            b"POST /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 1\r\n\r\nw"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"echo:w")


def test_failure_after_the_head_sends_the_head_then_closes(server_port: int) -> None:
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(b"GET /fail-after-head HTTP/1.1\r\nhost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    # As plain uvicorn does: the head that was sent, then the connection closed.
    assert data.startswith(b"HTTP/1.1 200")


class CountingTransport:
    def __init__(self, transport: Any, writes: list[bytes]) -> None:
        self._transport, self._writes = transport, writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def close(self) -> None:
        self._transport.close()

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())


def test_one_socket_write_per_small_response(
    server_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[bytes] = []
    wrap = OneWriteTransport.__init__

    def counting(self: OneWriteTransport, transport: Any, loop: Any) -> None:
        wrap(self, CountingTransport(transport, writes), loop)  # type: ignore[arg-type]

    monkeypatch.setattr(OneWriteTransport, "__init__", counting)
    with socket.create_connection(("127.0.0.1", server_port), timeout=10) as sock:
        sock.sendall(b"POST /d HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\nz")
        answer = _read_response(sock)
    assert answer.endswith(b"echo:z")
    assert writes == [answer]
