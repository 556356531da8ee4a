"""The unit tier is pure: any test here that opens a network connection fails."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class SocketBlockedError(RuntimeError):
    """Raised when a unit test reaches for the network."""


def _blocked(*_args: Any, **_kwargs: Any) -> Any:
    raise SocketBlockedError("unit tests may not use the network: move this test to integration")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # asyncio's own self-pipe uses socketpair(), which needs none of these, so loops still work.
    for name in ("connect", "connect_ex", "bind", "sendto"):
        monkeypatch.setattr(socket.socket, name, _blocked)
    monkeypatch.setattr(socket, "create_connection", _blocked)
    monkeypatch.setattr(socket, "getaddrinfo", _blocked)
