"""An anonymous 200 MB body against a real `paicha serve`: answered 401 before the body is read,
and the server's memory stays bounded while the bytes arrive (finding 5 of issue 11: the body
was held and parsed before the 401, 957 MB of RSS)."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_docs_walkthrough import _free_port

BODY = 200 * 1024 * 1024
CHUNK = 1024 * 1024
RSS_BAR_KB = 300 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(port, pid) of `paicha serve --demo` on a fresh SQLite file."""
    folder = tmp_path_factory.mktemp("serve")
    port = _free_port()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "paicha", "serve", "--demo", "--no-scheduler", "--port",
         str(port), "--database", f"sqlite:///{folder / 'paicha.db'}", "--log-level",
         "warning"], stdout=log, stderr=subprocess.STDOUT, cwd=folder, env={**os.environ})
    try:
        _wait_until_up(port, process, folder / "serve.log")
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_until_up(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        select.select([], [], [], 0.2)
    raise AssertionError("the server did not start within a minute")


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc")


def _answer(sock: socket.socket, wait: float) -> bytes:
    """The response the server sent within `wait` seconds (b"" if none began), read to the
    end of its body."""
    received = b""
    while True:
        head, _, body = received.partition(b"\r\n\r\n")
        length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
        if length and len(body) >= int(length.group(1)):
            return received
        ready, _, _ = select.select([sock], [], [], wait)
        if not ready:
            return received
        try:
            more = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not more:
            return received
        received += more


HEAD, TAIL = b'{"id": "x", "name": "', b'", "level": "street"}'
FILL = BODY - len(HEAD) - len(TAIL)  # a valid JSON body of exactly BODY bytes


def _send_body(sock: socket.socket, *, chunked: bool) -> None:
    """200 MB of a JSON string value, as fast as the server takes it; a server that closes
    the connection early ends the upload."""
    filler = b"a" * CHUNK
    parts = [HEAD, *(filler for _ in range(FILL // CHUNK)), filler[:FILL % CHUNK], TAIL]
    try:
        for part in parts:
            if chunked:
                sock.sendall(b"%x\r\n%b\r\n" % (len(part), part))
            else:
                sock.sendall(part)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_anonymous_200_mb_body_gets_401_unread(server: tuple[int, int],
                                                  chunked: bool) -> None:
    port, pid = server
    framing = (b"Transfer-Encoding: chunked" if chunked
               else b"Content-Length: %d" % BODY)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /orgs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\n" + framing + b"\r\n\r\n")
        # the answer comes before any byte of the body is sent (the hang guard is generous)
        early = _answer(sock, 20)
        _send_body(sock, chunked=chunked)
        answer = early or _answer(sock, 120)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert b'"code":"unauthenticated"' in answer
    peak = _peak_rss_kb(pid)
    assert peak < RSS_BAR_KB, f"the server's peak RSS was {peak // 1024} MB"
    assert early, "the 401 came only after the whole body was sent"
