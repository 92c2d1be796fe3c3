from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from servicekit.waiting import answers_200, free_port, wait_until, wait_until_async


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_free_port_can_be_bound(host: str) -> None:
    with socket.socket() as listener:
        listener.bind((host, free_port(host)))


class _Status(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(int(self.path.strip("/")))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    """A server answering GET /<status> with that status."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_answers_200_only_for_a_200(server_url: str) -> None:
    assert answers_200(f"{server_url}/200")
    assert not answers_200(f"{server_url}/503")
    assert not answers_200(f"http://127.0.0.1:{free_port()}/")  # nothing listens


def test_wait_until_returns_once_the_check_holds() -> None:
    calls = itertools.count(1)
    seconds = wait_until(lambda: next(calls) >= 3, 5, "the third call")
    assert 0.1 <= seconds < 5


def test_wait_until_names_what_did_not_happen_in_time() -> None:
    with pytest.raises(TimeoutError, match=r"^the impossible: not within 0\.3 s$"):
        wait_until(lambda: False, 0.3, "the impossible")


def test_a_check_that_raises_ends_the_wait_at_once() -> None:
    def exited() -> bool:
        raise AssertionError("the server exited")

    with pytest.raises(AssertionError, match="the server exited"):
        wait_until(exited, 60, "the server answering")


@pytest.mark.asyncio
async def test_wait_until_async_awaits_the_check() -> None:
    calls = itertools.count(1)

    async def third_call() -> bool:
        return next(calls) >= 3

    assert await wait_until_async(third_call, 5, "the third call") < 5

    async def never() -> bool:
        return False

    with pytest.raises(TimeoutError, match="never: not within 0.3 s"):
        await wait_until_async(never, 0.3, "never")
