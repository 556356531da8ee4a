"""Every environment variable the code reads for a workload is set in its Deployment (or is
one the cluster rightly leaves unset), and what the code makes of the Deployment's
environment is the cluster's Kafka, database and role."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from engine.catalogue import load_catalogue
from puhui.settings import DATABASE_SERVICES, Connections, database_role, password_variable
from services.bootstrap import SERVICES, ServiceOptions
from services.cli import service_options
from tests.unit.deploy.rendered import OVERLAYS, Manifest, find, overlay

UNSET_IN_THE_CLUSTER = {
    # the local stack's ports and folder: only where PUHUI_KAFKA_BOOTSTRAP and
    # PUHUI_DATABASE_URL are unset (both are set in every Deployment)
    "PUHUI_STACK_DIR", "PUHUI_KAFKA_PORT", "PUHUI_KAFKA_CONTROLLER_PORT", "PUHUI_PG_PORT",
    "PUHUI_KAFKA_HEAP_MB", "PUHUI_PROMETHEUS_PORT", "PUHUI_EXTERNAL_DATABASE_URL",
    # the first port of the services' /metrics block: its default, 9101, puts each service on
    # its own port (9101-9104), the container's
    "PUHUI_METRICS_PORT",
    # checking anchors (`puhui audit anchor`), not signing them: the signing key's public half
    "PUHUI_AUDIT_PUBLIC_KEY",
}
"""Read by the code, rightly unset in a Deployment. Nothing else may be."""
UNUSED_BY_PUHUI_DB = {"PUHUI_KAFKA_BOOTSTRAP"}
"""`Connections` reads Kafka's address too; `puhui db migrate` and `wait` never use it."""


class ReadingRecorded(Mapping[str, str]):
    """A Deployment's environment that remembers every name the code looked up in it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _value(entry: Manifest) -> str:
    """A literal value as it is; a Secret's as `<secret>/<key>`, which stands for it here."""
    if "value" in entry:
        return str(entry["value"])
    ref: dict[str, Any] = entry["valueFrom"]["secretKeyRef"]
    return f"{ref['name']}/{ref['key']}"


def _environment(container: Manifest) -> ReadingRecorded:
    return ReadingRecorded({e["name"]: _value(e) for e in container["env"]})


def _containers(overlay_name: str, workload: str) -> list[Manifest]:
    (deployment,) = find(overlay(overlay_name), "Deployment", workload)
    pod = deployment["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def _unset_but_read(env: ReadingRecorded, service: str) -> set[str]:
    # Connections reads every role's password; a service uses its own alone
    others = {password_variable(s) for s in DATABASE_SERVICES if s != service}
    return env.read - env.values.keys() - UNSET_IN_THE_CLUSTER - others


@pytest.mark.parametrize("overlay_name", OVERLAYS)
@pytest.mark.parametrize("service", SERVICES)
def test_a_consumer_service_finds_all_it_reads_in_its_deployment(overlay_name: str,
                                                                 service: str) -> None:
    (*_, container) = _containers(overlay_name, service)
    env = _environment(container)
    options: ServiceOptions = service_options(service, env, load_catalogue(None))
    assert _unset_but_read(env, service) == set()
    assert options.connections.kafka_bootstrap == "puhui-kafka-bootstrap:9092"
    assert options.metrics_host == "0.0.0.0"  # noqa: S104  # scraped from outside the pod
    assert options.metrics_port == container["ports"][0]["containerPort"]
    url = options.connections.service_database_url(service)
    assert url == (f"postgresql://{database_role(service)}:puhui-db-{service}%2Fpassword"
                   "@puhui-db-rw:5432/puhui")
    if service == "audit":
        assert options.audit is not None
        assert options.audit.signing_key is not None
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "audit-anchors"]
        assert options.audit.signing_key.parent.as_posix() == mount["mountPath"]


@pytest.mark.parametrize("overlay_name", OVERLAYS)
@pytest.mark.parametrize("workload", [*SERVICES, "finance"])
def test_each_pod_waits_for_the_schema_as_its_own_role(overlay_name: str, workload: str) -> None:
    (waiting, *_) = _containers(overlay_name, workload)
    assert waiting["args"][:3] == ["db", "wait", workload]
    env = _environment(waiting)
    url = Connections.from_env(env).service_database_url(workload)
    assert _unset_but_read(env, workload) - UNUSED_BY_PUHUI_DB == set()
    assert url.startswith(f"postgresql://{database_role(workload)}:puhui-db-{workload}%2F")


@pytest.mark.parametrize("overlay_name", OVERLAYS)
def test_the_migrate_job_signs_in_as_the_owner_and_sets_every_roles_password(
        overlay_name: str) -> None:
    (job,) = find(overlay(overlay_name), "Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "migrate"]
    env = _environment(container)
    connections = Connections.from_env(env)
    assert env.read - env.values.keys() - UNSET_IN_THE_CLUSTER - UNUSED_BY_PUHUI_DB == set()
    assert connections.database_url == "postgresql://puhui-db-rw:5432/puhui"  # PGUSER's
    assert connections.role_passwords == {s: f"puhui-db-{s}/password" for s in DATABASE_SERVICES}


def test_dev_generates_every_roles_secret_and_production_none() -> None:
    secrets = {d["metadata"]["name"] for d in find(overlay("dev"), "Secret")}
    assert secrets == {f"puhui-db-{s}" for s in DATABASE_SERVICES}
    assert find(overlay("production"), "Secret") == []
