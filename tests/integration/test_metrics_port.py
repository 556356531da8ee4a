"""A restarted service waits (bounded) for its `/metrics` port instead of dying on it while
the process it replaces still holds it (issue #15)."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

from services.runtime.metrics import MetricsPortTaken, ServiceMetrics, serve


def _hold() -> tuple[socket.socket, int]:
    """A port the system gives free, held listening; a fixed one (it was 43180, inside
    Linux's ephemeral range) could already be held by some client's outgoing connection."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held, held.getsockname()[1]


async def test_a_port_still_held_is_waited_for_then_served() -> None:
    held, port = _hold()
    asyncio.get_running_loop().call_later(1.0, held.close)
    await asyncio.wait_for(serve(ServiceMetrics.create("relay"), port, wait_seconds=10), 15)
    body = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read())
    assert b"puhui_service_up" in body


async def test_a_port_that_stays_taken_fails_plainly_within_the_bound() -> None:
    held, port = _hold()
    try:
        with pytest.raises(MetricsPortTaken, match=rf"127.0.0.1:{port} is still in use"):
            await asyncio.wait_for(serve(ServiceMetrics.create("relay"), port,
                                         wait_seconds=1), 5)
    finally:
        held.close()
