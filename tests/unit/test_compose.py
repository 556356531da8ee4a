"""docker-compose.yml describes the same stack as `puhui stack`, and runs the services the code
defines with the monitoring of deploy/ (checked without Docker)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from puhui.settings import DATABASE_SERVICES, METRICS_PORTS, Connections, password_variable
from puhui.stack import kafka
from puhui.stack.config import (
    DEFAULT_KAFKA_PORT,
    DEFAULT_PG_PORT,
    DEFAULT_PROMETHEUS_PORT,
    StackConfig,
)
from services.bootstrap import DEFAULT_METRICS_PORTS

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
    passwords = {password_variable(service) for service in DATABASE_SERVICES}
    assert names
    unread = sorted(name for name in names - passwords if name not in source)
    assert not unread, f"docker-compose.yml sets variables no code reads: {unread}"


def test_every_service_runs_from_the_image_with_its_metrics_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, port in DEFAULT_METRICS_PORTS.items():
        service = services[name]
        assert service["build"] == "."
        assert service["command"] == ["service", name]
        assert service["ports"] == [f"{port}:{port}"]
        env = service["environment"]
        assert {"PUHUI_KAFKA_BOOTSTRAP", "PUHUI_DATABASE_URL"} <= env.keys()
        assert env["PUHUI_METRICS_HOST"] == "0.0.0.0"  # noqa: S104  # scraped from another container
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    running = {name for name, service in services.items()
               if service.get("command", [""])[0] == "service"}
    assert running == set(DEFAULT_METRICS_PORTS) == set(METRICS_PORTS)


def test_prometheus_scrapes_every_service_by_its_compose_name(compose: dict[str, Any]) -> None:
    service = compose["services"]["prometheus"]
    assert _host_port(service) == DEFAULT_PROMETHEUS_PORT
    assert "./deploy/prometheus:/etc/prometheus:ro" in service["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in service["command"]
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for t in job["static_configs"][0]["targets"]}
    assert targets == {f"{name}:{port}" for name, port in DEFAULT_METRICS_PORTS.items()}
    assert all(name in compose["services"] for name in DEFAULT_METRICS_PORTS)


def test_grafana_is_provisioned_from_deploy(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in volumes
    for volume in volumes:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (REPO / source).is_dir(), f"{source} is mounted but missing"


def test_services_sign_in_as_their_own_roles_and_only_migrate_is_the_owner(
        compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in DEFAULT_METRICS_PORTS:
        env = services[name]["environment"]
        assert [key for key in env if key.startswith("PUHUI_DB_PASSWORD_")] == \
            [password_variable(name)], f"{name} must hold its own role's password only"
        signed_in = Connections.from_env({**env, password_variable(name): "pw"})
        assert signed_in.service_database_url(name) == \
            f"postgresql://puhui_{name}:pw@postgres:5432/puhui"
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "migrate"]
    assert migrate["environment"]["PUHUI_DATABASE_URL"].startswith("postgresql://puhui:")
    assert {password_variable(s) for s in DATABASE_SERVICES} <= migrate["environment"].keys()
    assert services["audit"]["environment"]["PUHUI_AUDIT_SIGNING_KEY"] == \
        "/run/secrets/audit-anchors-key"
