"""deploy/k8s agrees with the code: generated from its tables, and every image, argument,
port, variable, probe, topic and size is the one the code and the bench say."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from puhui.kube import table
from puhui.kube.__main__ import stale
from puhui.kube.manifests import REPO
from puhui.settings import DATABASE_SERVICES, METRICS_PORTS, password_variable
from puhui.stack import kafka as stack_kafka
from puhui.stack import postgres as stack_postgres
from puhui.stack.config import StackConfig
from schemas.topics import CARD_TRANSACTIONS, INBOUND, PARTITIONS
from services import disbursement
from services.bootstrap import SERVICES
from services.finance.api.app import create_app
from services.runtime.health import LIVE_PATH, READY_PATH
from tests.unit.deploy.rendered import OVERLAYS, Manifest, find, overlay

Documents = tuple[Manifest, ...]


def _read(path: str) -> str:
    return (REPO / path).read_text()


def _container(documents: Documents, name: str) -> Manifest:
    (deployment,) = find(documents, "Deployment", name)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert isinstance(container, dict)
    return container


def _env(container: Manifest) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_the_committed_base_is_what_the_tables_generate() -> None:
    assert stale() == [], "regenerate: python -m puhui.kube"


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_service_runs_from_the_image_with_its_port_and_probes(name: str) -> None:
    documents = overlay(name)
    version = tomllib.loads(_read("pyproject.toml"))["project"]["version"]
    assert 'ENTRYPOINT ["puhui"]' in _read("Dockerfile")
    for service in SERVICES:
        container = _container(documents, service)
        assert container["image"] == f"puhui:{version}"
        assert container["args"] == ["service", service]
        assert container["ports"] == [{"name": "metrics", "containerPort": METRICS_PORTS[service],
                                       "protocol": "TCP"}]
        env = _env(container)
        # the block's default first port (9101) puts each service on its own: the code reads
        # PUHUI_METRICS_PORT as the block's first port (test_k8s_environment.py checks the
        # port the code listens on is the container's)
        assert "PUHUI_METRICS_PORT" not in env
        assert env["PUHUI_METRICS_HOST"] == "0.0.0.0"  # noqa: S104  # scraped from outside
        assert env["PUHUI_KAFKA_BOOTSTRAP"] == "puhui-kafka-bootstrap:9092"
        assert container["livenessProbe"]["httpGet"] == {"path": LIVE_PATH, "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": READY_PATH, "port": "metrics"}
        (svc,) = find(documents, "Service", service)
        assert svc["spec"]["ports"][0]["targetPort"] == "metrics"
        assert svc["metadata"]["labels"]["puhui.io/scrape"] == "true"
    deployments = {d["metadata"]["name"] for d in find(documents, "Deployment")}
    assert deployments == {*SERVICES, "finance"}
    assert deployments == {d["metadata"]["name"] for d in find(documents, "PodDisruptionBudget")}


@pytest.mark.parametrize("name", OVERLAYS)
def test_finance_review_is_behind_a_service_and_probed_on_its_schema(name: str) -> None:
    documents = overlay(name)
    container = _container(documents, "finance")
    args = container["args"]
    assert args[:6] == ["finance", "serve", "--host", "0.0.0.0", "--port", "8080"]  # noqa: S104
    assert ("--secure-cookie" in args) == (name == "production")
    schema = create_app(lambda: None).openapi_url  # type: ignore[arg-type, return-value]  # never started
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": schema, "port": "http"}
    (svc,) = find(documents, "Service", "finance")
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http",
                                     "protocol": "TCP"}]
    # the What if page replays the inbound topics from the broker
    assert _env(container)["PUHUI_KAFKA_BOOTSTRAP"] == "puhui-kafka-bootstrap:9092"


def test_every_puhui_variable_in_the_manifests_is_read_by_the_code() -> None:
    text = "\n".join(yaml.safe_dump_all(overlay(name)) for name in OVERLAYS)
    names = set(re.findall(r"PUHUI_[A-Z_]+", text))
    source = "\n".join(p.read_text() for d in ("puhui", "services")
                       for p in (REPO / d).rglob("*.py")
                       if "kube" not in p.parts)
    # the roles' password variables are built from the service's name (puhui/settings.py)
    source += "\n".join(password_variable(service) for service in DATABASE_SERVICES)
    assert names >= {"PUHUI_KAFKA_BOOTSTRAP", "PUHUI_DATABASE_URL", "PUHUI_METRICS_HOST"}
    assert sorted(n for n in names if n not in source) == []


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_database_is_the_cloudnativepg_cluster_and_its_secret(name: str) -> None:
    documents = overlay(name)
    (cluster,) = find(documents, "Cluster", "puhui-db")
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    for workload in (*SERVICES, "finance"):
        env = _env(_container(documents, workload))
        assert env["PUHUI_DATABASE_URL"] == f"postgresql://puhui-db-rw:5432/{initdb['database']}"
        # each service signs in as its own role: its own password, never the owner's
        assert env[password_variable(workload)] == {
            "secretKeyRef": {"name": f"puhui-db-{workload}", "key": "password"}}
        assert "PGUSER" not in env
        assert "PGPASSWORD" not in env
    # CloudNativePG's Secret <cluster>-app holds the owner's username and password: only the
    # migrate Job, which migrates as the owner, reads it
    (job,) = find(documents, "Job")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    env = _env(migrate)
    for variable, key in (("PGUSER", "username"), ("PGPASSWORD", "password")):
        assert env[variable] == {"secretKeyRef": {"name": "puhui-db-app", "key": key}}


def test_postgres_settings_are_the_stacks_and_docker_composes() -> None:
    compose = yaml.safe_load(_read("docker-compose.yml"))["services"]["postgres"]
    args = compose["command"][1:]
    wanted = dict(args[i + 1].split("=", 1) for i in range(0, len(args), 2))
    (cluster,) = find(overlay("production"), "Cluster")
    assert wanted == stack_postgres.SERVER_SETTINGS
    assert cluster["spec"]["postgresql"]["parameters"] == wanted
    assert cluster["spec"]["imageName"].endswith(":" + compose["image"].split(":")[1])


@pytest.mark.parametrize("name", OVERLAYS)
def test_topics_are_the_codes_with_their_partitions_and_the_stacks_retention(name: str) -> None:
    topics = find(overlay(name), "KafkaTopic")
    broker_ms = stack_kafka.LOG_RETENTION_HOURS * 3600 * 1000
    inbound_ms = 400 * 24 * 3600 * 1000
    assert {t["spec"]["topicName"]: t["spec"]["partitions"] for t in topics} == PARTITIONS
    retention = {t["spec"]["topicName"]: t["spec"]["config"]["retention.ms"] for t in topics}
    assert retention == {name: inbound_ms if name in INBOUND else broker_ms for name in PARTITIONS}
    assert all(t["metadata"]["labels"]["strimzi.io/cluster"] == "puhui" for t in topics)
    (pool,) = find(overlay(name), "KafkaNodePool")
    assert {t["spec"]["replicas"] for t in topics} == {pool["spec"]["replicas"]}


def test_the_broker_settings_are_the_stacks() -> None:
    props = stack_kafka._server_properties(StackConfig(home=REPO), Path("/data"))
    stack = dict(line.split("=", 1) for line in props.splitlines()
                 if line and not line.startswith("#"))
    (cluster,) = find(overlay("production"), "Kafka")
    config = cluster["spec"]["kafka"]["config"]
    shared = ("auto.create.topics.enable", "num.partitions", "offsets.topic.num.partitions",
              "log.retention.hours")
    for key in shared:
        assert str(config[key]).lower() == stack[key], key
    assert cluster["spec"]["kafka"]["version"].rsplit(".", 1)[0] == compose_kafka_minor()


def compose_kafka_minor() -> str:
    image = yaml.safe_load(_read("docker-compose.yml"))["services"]["kafka"]["image"]
    return str(image.split(":")[1].rsplit(".", 1)[0])


def _bench_peaks() -> dict[str, int]:
    peaks: dict[str, int] = {}
    text = " ".join(_read("docs/bench.md").split())
    for sentence in re.findall(r"peak RSS:? ((?:[a-z]+ \d+ MB,? ?)+)", text):
        for service, mb in re.findall(r"([a-z]+) (\d+) MB", sentence):
            peaks[service] = max(peaks.get(service, 0), int(mb))
    return peaks


def test_memory_is_sized_from_the_bench() -> None:
    peaks = _bench_peaks()
    assert set(peaks) == set(SERVICES)
    documents = overlay("production")
    for service in SERVICES:
        assert table.SIZING[service].peak_rss_mb == peaks[service]
        resources = _container(documents, service)["resources"]
        request = int(resources["requests"]["memory"].removesuffix("Mi"))
        limit = int(resources["limits"]["memory"].removesuffix("Mi"))
        assert request * 1024**2 >= 1.25 * peaks[service] * 1000**2
        assert limit == 2 * request
        assert "cpu" not in resources["limits"]


@pytest.mark.parametrize(("name", "replicas"), [("dev", 1), ("production", 4)])
def test_disbursement_replicas_share_the_card_partitions_evenly(name: str, replicas: int) -> None:
    (deployment,) = find(overlay(name), "Deployment", "disbursement")
    assert deployment["spec"]["replicas"] == replicas
    assert CARD_TRANSACTIONS in disbursement.SPEC.topics
    assert PARTITIONS[CARD_TRANSACTIONS] % replicas == 0


def test_prometheus_gets_the_rules_promtool_tests_and_scrapes_every_service() -> None:
    documents = overlay("production")
    (rule,) = find(documents, "PrometheusRule")
    tested = yaml.safe_load(_read("deploy/prometheus/tests/puhui_test.yml"))["rule_files"]
    assert tested == ["../rules/puhui.yml"]
    assert rule["spec"]["groups"] == yaml.safe_load(_read("deploy/prometheus/rules/puhui.yml"))[
        "groups"]
    (monitor,) = find(documents, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    scraped = {s["metadata"]["name"] for s in find(documents, "Service")
               if selector.items() <= s["metadata"]["labels"].items()}
    assert scraped == set(SERVICES)
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
