"""promtool (Debian's prometheus package, installed by scripts/setup) checks deploy/prometheus/:
the configuration, the rules, and the rules' unit tests. A local binary, no network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from puhui.stack.config import StackConfig
from puhui.stack.prometheus import PrometheusNode
from tests.unit.monitoring.catalogue import REPO

PROMETHEUS = REPO / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: run scripts/setup (it installs Debian's prometheus)"
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_check_config(promtool: str) -> None:
    done = _run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert "SUCCESS" in done.stdout + done.stderr


def test_check_config_of_the_local_stack(promtool: str, tmp_path: Path) -> None:
    node = PrometheusNode(StackConfig(home=tmp_path))
    node.write_config()
    _run(promtool, "check", "config", str(node.config_file))


def test_check_rules(promtool: str) -> None:
    done = _run(promtool, "check", "rules", *map(str, sorted(PROMETHEUS.glob("rules/*.yml"))))
    assert "SUCCESS" in done.stdout + done.stderr


def test_rules_unit_tests(promtool: str) -> None:
    done = _run(promtool, "test", "rules", str(PROMETHEUS / "tests" / "puhui_test.yml"))
    assert "SUCCESS" in done.stdout + done.stderr
