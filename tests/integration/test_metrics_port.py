"""A restarted service waits (bounded) for its `/metrics` port instead of dying on it while
the process it replaces still holds it (issue #15)."""

from __future__ import annotations

import asyncio
import os
import socket
import urllib.request

import pytest

from services.runtime.metrics import MetricsPortTaken, ServiceMetrics, serve

# the block given to this worktree's tests (PUHUI_METRICS_PORT), well past what a service takes
BASE = int(os.environ.get("PUHUI_METRICS_PORT", "43100")) + 80


def _hold(port: int) -> socket.socket:
    held = socket.socket()
    held.bind(("127.0.0.1", port))
    held.listen()
    return held


async def test_a_port_still_held_is_waited_for_then_served() -> None:
    held = _hold(BASE)
    asyncio.get_running_loop().call_later(1.0, held.close)
    await asyncio.wait_for(serve(ServiceMetrics.create("relay"), BASE, wait_seconds=10), 15)
    body = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://127.0.0.1:{BASE}/metrics", timeout=5).read())
    assert b"puhui_service_up" in body


async def test_a_port_that_stays_taken_fails_plainly_within_the_bound() -> None:
    held = _hold(BASE + 1)
    try:
        with pytest.raises(MetricsPortTaken, match=rf"127.0.0.1:{BASE + 1} is still in use"):
            await asyncio.wait_for(serve(ServiceMetrics.create("relay"), BASE + 1,
                                         wait_seconds=1), 5)
    finally:
        held.close()
