"""A PostgreSQL server from Debian's packages, its cluster under the stack folder."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from puhui.stack import process
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError

SERVER_SETTINGS: dict[str, str] = {
    "max_connections": "200", "shared_buffers": "256MB", "work_mem": "16MB",
    "max_wal_size": "2GB",
    # a batch holds an advisory lock per card, purchase and member it names (about 5,800);
    # with several instances at once, the default of 64 (12,800 in the shared table at 200
    # connections) is too few (docs/services.md)
    "max_locks_per_transaction": "256",
}
"""The server's settings wherever Puhui runs PostgreSQL: this stack, docker-compose.yml and
the CloudNativePG cluster (`puhui.kube`); tests/unit/deploy holds the three equal."""

SERVER_USER = "postgres"  # PostgreSQL refuses to run as root; when we are root it runs as this


class PostgresNode:
    """The cluster's files and server process; every method is safe to call twice."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.root = config.home / "postgres"
        self.data = self.root / "data"
        self.run_dir = self.root / "run"
        self.log = self.root / "postgres.log"

    def pid(self) -> int | None:
        return process.read_pid(self.data / "postmaster.pid")

    def listening(self) -> bool:
        return process.port_open(self.config.host, self.config.pg_port)

    def init_cluster(self) -> bool:
        """Create the cluster (superuser `puhui`, trust on loopback); False when it exists."""
        if (self.data / "PG_VERSION").exists():
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        self._own(self.root)
        done = self._run([str(self._bin("initdb")), "-D", str(self.data), "-U", "puhui",
                          "--auth=trust", "-E", "UTF8", "--no-locale"])
        if done.returncode != 0:
            raise StackError(f"initdb failed:\n{done.stdout[-2000:]}",
                             f"remove {self.data} (`puhui stack down --purge`) and try again")
        return True

    def start(self) -> None:
        process.require_free_port(self.config.host, self.config.pg_port, "PostgreSQL",
                                  "PUHUI_PG_PORT")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._own(self.run_dir)
        self._own_file(self.log)
        options = " ".join([
            f"-c listen_addresses={self.config.host}", f"-c port={self.config.pg_port}",
            f"-c unix_socket_directories={self.run_dir}",
            *(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items()),
            "-c log_min_messages=warning",
        ])
        done = self._run([str(self._bin("pg_ctl")), "-D", str(self.data), "-l", str(self.log),
                          "-o", options, "-w", "-t", "60", "start"])
        if done.returncode != 0:
            raise StackError(
                f"PostgreSQL did not start:\n{process.tail(self.log)}\n{done.stdout.strip()}",
                f"read {self.log}; `puhui stack down --purge` removes a damaged cluster",
            )

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server; mode `immediate` is a crash as far as PostgreSQL can tell."""
        if self.pid() is None:
            return False
        self._run([str(self._bin("pg_ctl")), "-D", str(self.data), "-m", mode, "-w", "stop"])
        pid = self.pid()
        if pid is not None:
            process.terminate(pid)
        return True

    def log_tail(self) -> str:
        return process.tail(self.log)

    def _bin(self, name: str) -> Path:
        return server_bindir() / name

    def _run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        prefix = [runuser, "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *argv], capture_output=False, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=False,
                              cwd=self.root)

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = _server_user()
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, user.pw_uid, user.pw_gid)
            path.chmod(0o700)

    def _own_file(self, path: Path) -> None:
        if os.geteuid() == 0:
            user = _server_user()
            path.touch(exist_ok=True)
            os.chown(path, user.pw_uid, user.pw_gid)


def server_bindir() -> Path:
    """The newest PostgreSQL server's bin folder (`PUHUI_PG_BINDIR` overrides)."""
    override = os.environ.get("PUHUI_PG_BINDIR")
    candidates = [Path(override)] if override else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version(p.parent.name))
    found = [c for c in candidates if (c / "postgres").exists() and (c / "initdb").exists()]
    if not found:
        raise StackError(
            "the PostgreSQL server is not installed (no initdb/postgres under /usr/lib/postgresql)",
            "run `make setup`, or install it yourself: apt-get install postgresql; "
            "or point PUHUI_EXTERNAL_DATABASE_URL at a server that already runs",
        )
    return found[-1]


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _server_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise StackError(
            f"running as root, but there is no `{SERVER_USER}` user to run PostgreSQL as",
            "install Debian's postgresql package (it creates the user), or run as another user",
        ) from None


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
