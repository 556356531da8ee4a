"""The services as processes on the bench database, their peak memory, their profiles: the
four of the hot path and, unless left out, the watch beside them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("enrolment", "disbursement", "audit", "relay")
"""The hot path: every event goes through them."""
WATCH = "watch"
"""Off the hot path: it reads card transactions and payouts and only advises (docs/watch.md)."""
STOP_WITHIN_SECONDS = 30
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` now (VmRSS), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def nice_values(pid: int) -> list[int]:
    """The nice value of each of `pid`'s threads, distinct and sorted (a thread that was
    started before the process lowered its priority keeps the old one); [] once it is gone."""
    found = set()
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        found.add(int(fields[16]))
    return sorted(found)


def autogroup_nice(pid: int) -> int | None:
    """The nice value of `pid`'s session's autogroup (what weighs against other sessions);
    None where the kernel has no autogroups or the process is gone."""
    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()
    except OSError:
        return None
    return int(text.split()[-1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` so far, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Fleet:
    """Start every service; `sample()` keeps each one's peak RSS; `stop()` ends them."""

    env: dict[str, str]
    logs: Path
    profile: tuple[str, ...] = ()
    """Services to record with py-spy while they run (`<logs>/<name>.<n>.collapsed.txt`)."""
    instances: int = 1
    """Disbursement processes (they share the card partitions)."""
    watch: bool = True
    """Run the watch beside the hot path (its state in `<logs>/watch-state`)."""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)
    stage_rss: dict[str, int] = field(default_factory=dict)
    """Peak RSS since `new_stage()`."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds each service has used since it (last) started."""
    profiles: list[Path] = field(default_factory=list)
    _spies: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _starts: int = 0

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self._starts += 1
        self.cpu.clear()
        env = {**self.env, "PUHUI_WATCH_STATE_DIR": str(self.logs / "watch-state")}
        for name in self.names():
            self.ports[name] = free_port()
            argv = [sys.executable, "-m", "puhui", "service", name.split("-")[0],
                    "--metrics-port", str(self.ports[name])]
            with (self.logs / f"{name}.log").open("ab") as log:
                self.procs[name] = subprocess.Popen(argv, env=env, stdout=log,
                                                    stderr=log, start_new_session=True)
        for name in self.profile:
            self._spy(name)

    def names(self) -> list[str]:
        """`disbursement`, `disbursement-2`, ... for the instances beyond the first; `watch`
        last, if it runs."""
        extra = [f"disbursement-{i}" for i in range(2, self.instances + 1)]
        return [*SERVICES[:2], *extra, *SERVICES[2:], *([WATCH] if self.watch else [])]

    def _spy(self, name: str) -> None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        out = self.logs / f"{name}.{self._starts}.collapsed.txt"
        argv = [spy, "record", "--pid", str(self.procs[name].pid), "--format", "raw",
                "--rate", "100", "--nonblocking", "--output", str(out)]
        self._spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        self.profiles.append(out)

    def sample(self) -> None:
        for name, proc in self.procs.items():
            rss = rss_bytes(proc.pid)
            self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)
            self.stage_rss[name] = max(self.stage_rss.get(name, 0), rss)
            self.cpu[name] = max(self.cpu.get(name, 0.0), cpu_seconds(proc.pid))

    def new_stage(self) -> None:
        """Peak RSS counts again from now (`stage_rss`)."""
        self.stage_rss.clear()

    def pid(self, name: str) -> int | None:
        proc = self.procs.get(name)
        return None if proc is None or proc.poll() is not None else proc.pid

    def dead(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=STOP_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for spy in self._spies:  # py-spy writes its file when its target exits
            try:
                spy.wait(timeout=STOP_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                spy.terminate()
        self._spies.clear()
        self.procs.clear()
