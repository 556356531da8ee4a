"""Every manifest the overlays render is valid for the Kubernetes API and the operators."""

from __future__ import annotations

import copy

import pytest

from tests.unit.deploy.rendered import (
    K8S,
    KUBERNETES_VERSIONS,
    OVERLAYS,
    find,
    overlay,
    problems,
    render,
)

KINDS = {"Deployment", "Service", "PodDisruptionBudget", "Job", "Kafka", "KafkaNodePool",
         "KafkaTopic", "Cluster", "ServiceMonitor", "PrometheusRule"}
GENERATED = {"dev": {"Secret"}, "production": set()}
"""What an overlay adds to the base's kinds: dev generates the roles' password Secrets."""


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", OVERLAYS)
def test_every_rendered_manifest_is_valid(name: str, version: str) -> None:
    documents = overlay(name)
    assert {d["kind"] for d in documents} == KINDS | GENERATED[name]
    found = [p for d in documents for p in problems(d, version)]
    assert found == []


def test_the_base_renders_too() -> None:
    assert len(render(K8S / "base")) == len(overlay("production"))


def _broken(kind: str, change: str) -> list[str]:
    document = copy.deepcopy(find(overlay("production"), kind)[0])
    exec(change, {"d": document})  # noqa: S102  # a fixed statement of this file
    return problems(document, KUBERNETES_VERSIONS[0])


@pytest.mark.parametrize(("kind", "change"), [
    ("Deployment", "d['spec']['replica'] = 2"),  # a typo the API server would prune
    ("Deployment", "d['spec']['template']['spec']['containers'][0]['ports'][0]"
                   "['containerPort'] = 'metrics'"),
    ("KafkaTopic", "d['spec']['partition'] = 8"),
    ("KafkaTopic", "d['spec']['partitions'] = 0"),
    ("Kafka", "d['spec']['kafka']['listeners'][0]['type'] = 'public'"),
    ("KafkaNodePool", "d['spec']['roles'] = ['leader']"),
    ("Cluster", "d['spec']['instances'] = 'three'"),
    ("ServiceMonitor", "d['spec']['endpoints'][0]['intervall'] = '5s'"),
    ("PrometheusRule", "d['spec']['groups'][0]['rules'][0]['for'] = 'a minute'"),
    ("PodDisruptionBudget", "d['spec']['maxUnavailabe'] = 1"),
])
def test_a_wrong_manifest_is_refused(kind: str, change: str) -> None:
    assert _broken(kind, change) != []


def test_a_custom_resource_without_a_vendored_schema_is_refused() -> None:
    document = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "x"}}
    assert problems(document, KUBERNETES_VERSIONS[0]) == [
        "Gadget x: no CRD schema for example.com/v1 in deploy/k8s/crds"]
