"""`puhui stack` as an operator uses it: idempotent up, truthful status, recovery after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from puhui.stack.config import StackConfig
from puhui.stack.kafka import KafkaNode

PUHUI = [sys.executable, "-m", "puhui"]


def _puhui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PUHUI, *args], capture_output=True, text=True, timeout=400,
                          check=False)


def test_second_up_changes_nothing(stack: StackConfig) -> None:
    pid_before = KafkaNode(stack).pid()
    done = _puhui("stack", "up")
    assert done.returncode == 0, done.stderr
    assert "kafka: already running" in done.stdout
    assert "postgres: already running" in done.stdout
    assert "topics: all present" in done.stdout
    assert KafkaNode(stack).pid() == pid_before


def test_status_tells_the_truth_after_sigkill_and_up_brings_it_back(stack: StackConfig) -> None:
    pid = KafkaNode(stack).pid()
    assert pid is not None
    healthy = _puhui("stack", "status")
    assert healthy.returncode == 0
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while KafkaNode(stack).pid() is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    broken = _puhui("stack", "status")
    assert broken.returncode == 1
    kafka_line = next(line for line in broken.stdout.splitlines() if "kafka" in line)
    assert "DOWN" in kafka_line
    assert "down: no process" in kafka_line
    revived = _puhui("stack", "up")
    assert revived.returncode == 0, revived.stderr
    assert "kafka: started" in revived.stdout
    assert _puhui("stack", "status").returncode == 0
    assert KafkaNode(stack).pid() not in (None, pid)
