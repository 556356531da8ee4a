"""The guard that keeps the unit tier pure really blocks the network."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.unit.conftest import SocketBlockedError


def test_a_tcp_connection_fails() -> None:
    with pytest.raises(SocketBlockedError), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))


def test_name_lookup_fails() -> None:
    with pytest.raises(SocketBlockedError):
        socket.getaddrinfo("localhost", 80)


def test_asyncio_open_connection_fails() -> None:
    async def connect() -> None:
        await asyncio.open_connection("127.0.0.1", 9)

    with pytest.raises(SocketBlockedError):
        asyncio.run(connect())
