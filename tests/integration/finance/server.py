"""`python -m puhui finance serve` as a real process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from puhui.stack.config import StackConfig


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def finance_server(stack: StackConfig, log: Path, port: int | None = None) -> Iterator[str]:
    """The server's base URL, once it answers; stopped (SIGTERM) when the block ends."""
    port = port or free_port()
    env = {**os.environ, "PUHUI_DATABASE_URL": stack.database_url}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "puhui", "finance", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"finance serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/api/openapi.json", timeout=2):  # noqa: S310  # our loopback server
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError("finance serve did not answer within a minute")
