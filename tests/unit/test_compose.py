"""docker-compose.yml describes the same stack as `puhui stack` (checked without Docker)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from puhui.stack import kafka
from puhui.stack.config import DEFAULT_KAFKA_PORT, DEFAULT_PG_PORT, StackConfig

REPO = Path(__file__).resolve().parents[2]
# Listener addresses differ by design inside Docker's network; everything else must agree.
NETWORK_KEYS = {"listeners", "advertised.listeners", "controller.quorum.voters",
                "listener.security.protocol.map", "inter.broker.listener.name", "log.dirs"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _host_port(service: dict[str, Any]) -> int:
    return int(str(service["ports"][0]).split(":")[0])


def test_host_ports_are_the_stack_defaults(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert _host_port(services["kafka"]) == DEFAULT_KAFKA_PORT
    assert _host_port(services["postgres"]) == DEFAULT_PG_PORT


def test_broker_settings_match_the_stack(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    props = kafka._server_properties(StackConfig(home=REPO), REPO / "data")
    compared = 0
    for line in props.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        if key in NETWORK_KEYS:
            continue
        env_key = "KAFKA_" + key.upper().replace(".", "_")
        assert env.get(env_key) == value, f"{env_key} in docker-compose.yml should be {value!r}"
        compared += 1
    assert compared >= 10


def test_kafka_image_is_the_broker_version_the_stack_runs(compose: dict[str, Any]) -> None:
    pom = (REPO / "puhui/stack/resources/kafka-pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)<", pom)
    assert version is not None
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version.group(1)}"


def test_every_puhui_variable_in_compose_is_read_by_the_code(compose: dict[str, Any]) -> None:
    names = set(re.findall(r"PUHUI_[A-Z_]+", (REPO / "docker-compose.yml").read_text()))
    files = [p for d in ("puhui", "services") for p in (REPO / d).rglob("*.py")]
    source = "\n".join(p.read_text() for p in files)
    assert names
    unread = sorted(name for name in names if name not in source)
    assert not unread, f"docker-compose.yml sets variables no code reads: {unread}"
