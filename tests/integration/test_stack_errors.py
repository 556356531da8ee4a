"""Real failure modes of `puhui stack up` give one clear message, not a traceback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from puhui.stack.config import StackConfig
from puhui.stack.postgres import PostgresNode

REPO = Path(__file__).resolve().parents[2]
PUHUI = [sys.executable, "-m", "puhui"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scratch_home(request: pytest.FixtureRequest) -> Iterator[Path]:
    # Under the repo, not /tmp/pytest-of-root: PostgreSQL runs as `postgres` and must reach it.
    home = REPO / ".stack-test" / f"scratch-{request.node.name}"
    shutil.rmtree(home, ignore_errors=True)
    yield home
    subprocess.run([*PUHUI, "stack", "down", "--purge"], env=_env(home, _free_port()),
                   capture_output=True, check=False)
    shutil.rmtree(home, ignore_errors=True)


def _env(home: Path, pg_port: int, **extra: str) -> dict[str, str]:
    return {**os.environ, "PUHUI_STACK_DIR": str(home), "PUHUI_PG_PORT": str(pg_port),
            "PUHUI_KAFKA_PORT": str(_free_port()),
            "PUHUI_KAFKA_CONTROLLER_PORT": str(_free_port()), **extra}


def _up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PUHUI, "stack", "up"], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_a_taken_port_is_named_with_what_to_do(scratch_home: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = _up(_env(scratch_home, port))
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1, wanted for PostgreSQL, is already taken" in done.stderr
    assert "PUHUI_PG_PORT=<port>" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_postgres_that_will_not_start_shows_its_log(scratch_home: Path) -> None:
    port = _free_port()
    node = PostgresNode(StackConfig(home=scratch_home, pg_port=port))
    node.init_cluster()
    with (node.data / "postgresql.conf").open("a") as conf:
        conf.write("\nshared_buffers = 'plenty'\n")
    done = _up(_env(scratch_home, port))
    assert done.returncode == 1
    assert "PostgreSQL did not start" in done.stderr
    assert "shared_buffers" in done.stderr  # the server's own complaint, from its log
    assert "Traceback" not in done.stderr + done.stdout


def test_java_missing_is_said_before_anything_starts(scratch_home: Path) -> None:
    bare_path = str(Path(sys.executable).parent)  # the venv's bin: python and puhui, no java
    done = _up(_env(scratch_home, _free_port(), PATH=bare_path))
    assert done.returncode == 1
    assert "Java 17 or newer" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (scratch_home / "postgres").exists()
