"""`pid_alive` on a process whose first thread has exited while another still runs: the
state a SIGKILLed JVM passes through while its threads exit, its files still open."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from puhui.stack.process import pid_alive

LEADER_EXITS_FIRST = """
import ctypes, threading, time
threading.Thread(target=time.sleep, args=(30,)).start()
ctypes.CDLL(None).pthread_exit(None)
"""


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]


def test_a_zombie_first_thread_with_a_thread_still_running_is_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", LEADER_EXITS_FIRST])
    try:
        deadline = time.monotonic() + 10
        while _state(child.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _state(child.pid) == "Z"  # its first thread is gone, the other sleeps
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)


def test_a_process_that_exited_and_was_not_reaped_is_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while _state(child.pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert not pid_alive(child.pid)
    finally:
        child.wait()
