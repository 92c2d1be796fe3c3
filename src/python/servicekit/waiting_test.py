from __future__ import annotations

import socket

import pytest

from servicekit.waiting import free_port


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_a_free_port_can_be_bound(host: str) -> None:
    with socket.socket() as listener:
        listener.bind((host, free_port(host)))
