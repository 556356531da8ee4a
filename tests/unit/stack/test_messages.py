"""Missing tools give one clear message with what to do, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from puhui.cli import main
from puhui.stack import kafka, postgres
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError


@pytest.fixture
def no_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    kafka._require_java.cache_clear()


def test_missing_java_says_how_to_install(no_tools: None, tmp_path: Path) -> None:
    with pytest.raises(StackError) as caught:
        kafka.KafkaNode(StackConfig(home=tmp_path)).check_tools()
    assert "Java 17 or newer" in caught.value.problem
    assert "openjdk-17-jre-headless" in caught.value.remedy


def test_missing_maven_is_only_needed_without_cached_jars(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "mvn" else f"/bin/{name}")
    monkeypatch.setattr(kafka, "_require_java", lambda: "/bin/java")
    node = kafka.KafkaNode(StackConfig(home=tmp_path))
    with pytest.raises(StackError) as caught:
        node.check_tools()
    assert "Maven" in caught.value.problem
    node.paths.libs.mkdir(parents=True)
    (node.paths.libs / ".complete").write_text(kafka._pom_digest())
    node.check_tools()  # jars cached: Maven is not needed


def test_missing_postgres_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PUHUI_PG_BINDIR", str(tmp_path))
    with pytest.raises(StackError) as caught:
        postgres.server_bindir()
    assert "PostgreSQL server is not installed" in caught.value.problem
    assert "apt-get install postgresql" in caught.value.remedy


def test_cli_prints_problem_and_remedy_without_traceback(
        no_tools: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PUHUI_STACK_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["stack", "up"])
    assert result.exit_code == 1
    assert "error: Java 17 or newer" in result.output
    assert "→" in result.output
    assert "Traceback" not in result.output


def test_missing_prometheus_says_how_to_install(no_tools: None, tmp_path: Path) -> None:
    from puhui.stack.prometheus import PrometheusNode

    with pytest.raises(StackError) as caught:
        PrometheusNode(StackConfig(home=tmp_path)).check_tools()
    assert "Prometheus" in caught.value.problem
    assert "apt-get install prometheus" in caught.value.remedy
