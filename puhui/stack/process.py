"""Background server processes: start detached, remember by pid file, check, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from puhui.stack.errors import StackError


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists and is not a zombie.

    A process whose first thread is a zombie while other threads are still exiting (a
    SIGKILLed JVM tearing down its threads) counts as alive: its files, a listening socket
    among them, are closed only when its last thread exits, and a `stack up` that took it
    for gone found the broker's port still taken."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if _state(Path(f"/proc/{pid}/stat")) != "Z":
            return True
        return any(_state(task / "stat") not in ("Z", "X", None)
                   for task in Path(f"/proc/{pid}/task").iterdir())
    return True


def _state(stat: Path) -> str | None:
    """The state letter of a process or thread (`R`, `S`, `Z`...), None once it is gone."""
    try:
        return stat.read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return None


def read_pid(pid_file: Path) -> int | None:
    """The pid recorded in `pid_file` if that process still runs, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def require_free_port(host: str, port: int, what: str, env_key: str) -> None:
    """Fail with a clear message when another program already listens on `port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise StackError(
                f"port {port} on {host}, wanted for {what}, is already taken by another program",
                f"stop that program (`ss -ltnp 'sport = :{port}'` shows which), "
                f"or choose another port: {env_key}=<port> puhui stack up",
            ) from None


def spawn(argv: Sequence[str], log_file: Path, pid_file: Path, env: dict[str, str]) -> int:
    """Start `argv` in its own session, output to `log_file`; record and return its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def terminate(pid: int, grace_seconds: float = 30.0) -> None:
    """SIGTERM, wait up to `grace_seconds`, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.2)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)


def _reap(pid: int) -> None:
    # A child we spawned in this very process would linger as a zombie without this.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])
