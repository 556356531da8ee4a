"""The manifests of deploy/k8s/base, as data built from puhui/kube/table.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from puhui.kube import table
from puhui.kube.table import Workload
from puhui.stack.kafka import LOG_RETENTION_HOURS

Manifest = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy" / "prometheus" / "rules" / "puhui.yml"
STACK_BROKER = {"auto.create.topics.enable": False, "num.partitions": 1,
                "offsets.topic.num.partitions": 8,
                "log.retention.hours": LOG_RETENTION_HOURS}
"""Broker settings that are those of `puhui stack` (tests/unit/deploy checks them)."""
REPLICATED = {"default.replication.factor": 3, "min.insync.replicas": 2,
              "offsets.topic.replication.factor": 3,
              "transaction.state.log.replication.factor": 3,
              "transaction.state.log.min.isr": 2}
"""Three brokers, writes acknowledged by two (the relay's producer uses acks=all)."""


def labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": table.PART_OF}


def _metadata(name: str, **extra: str) -> Manifest:
    return {"name": name, "labels": {**labels(name), **extra}}


def _env(w: Workload) -> list[Manifest]:
    env: list[Manifest] = []
    if w.kafka:
        env.append({"name": "PUHUI_KAFKA_BOOTSTRAP", "value": table.KAFKA_BOOTSTRAP})
    env.append({"name": "PUHUI_DATABASE_URL", "value": table.DATABASE_URL})
    # the role and its password come from a Secret of their own per workload (asyncpg reads
    # PGUSER and PGPASSWORD when the URL has none): today every workload names CloudNativePG's
    # app Secret; per-service roles change `database_secret` in puhui/kube/table.py
    for variable, key in (("PGUSER", "username"), ("PGPASSWORD", "password")):
        env.append({"name": variable, "valueFrom": {
            "secretKeyRef": {"name": w.database_secret, "key": key}}})
    if w.scraped:
        env += [{"name": "PUHUI_METRICS_HOST", "value": "0.0.0.0"},  # noqa: S104  # scraped from outside the pod
                {"name": "PUHUI_METRICS_PORT", "value": str(w.port)}]
    return env


def _probe(path: str, port: str, period: int, failures: int) -> Manifest:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period,
            "timeoutSeconds": 2, "failureThreshold": failures}


def _container(w: Workload) -> Manifest:
    return {
        "name": w.name, "image": table.IMAGE, "imagePullPolicy": "IfNotPresent",
        "args": list(w.args),
        "ports": [{"name": w.port_name, "containerPort": w.port, "protocol": "TCP"}],
        "env": _env(w),
        "resources": {
            "requests": {"cpu": f"{w.sizing.cpu_millicores}m",
                         "memory": f"{w.sizing.memory_request_mi}Mi"},
            "limits": {"memory": f"{w.sizing.memory_limit_mi}Mi"}},
        # start-up applies pending migrations: up to five minutes before liveness counts
        "startupProbe": _probe(w.live_path, w.port_name, 5, 60),
        "livenessProbe": _probe(w.live_path, w.port_name, 10, 3),
        "readinessProbe": _probe(w.ready_path, w.port_name, 5, 2),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108  # the pod's own
    }


def deployment(w: Workload) -> Manifest:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _metadata(w.name),
        "spec": {
            "replicas": w.replicas,
            "selector": {"matchLabels": labels(w.name)},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(w.name)},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                                        "runAsGroup": 10001,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "terminationGracePeriodSeconds": 30,  # SIGTERM: the batch commits, then exit
                    "containers": [_container(w)],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                }}}}


def service(w: Workload) -> Manifest:
    extra = {"puhui.io/scrape": "true"} if w.scraped else {}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(w.name, **extra),
            "spec": {"selector": labels(w.name),
                     "ports": [{"name": w.port_name, "port": w.service_port or w.port,
                                "targetPort": w.port_name, "protocol": "TCP"}]}}


def disruption_budget(w: Workload) -> Manifest:
    """At most one replica evicted at a time: a drain never stops two consumers of one group
    together, and never blocks on a service that runs one replica."""
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": _metadata(w.name),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(w.name)}}}


def workload_documents(w: Workload) -> list[Manifest]:
    return [deployment(w), service(w), disruption_budget(w)]


def kafka() -> list[Manifest]:
    cluster = {"strimzi.io/cluster": table.KAFKA_CLUSTER}
    pool = {
        "apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaNodePool",
        "metadata": {"name": "dual-role", "labels": {**labels("kafka"), **cluster}},
        "spec": {
            "replicas": 3, "roles": ["controller", "broker"],
            "storage": {"type": "jbod", "volumes": [
                {"id": 0, "type": "persistent-claim", "size": "50Gi", "deleteClaim": False,
                 "kraftMetadata": "shared"}]},
            # the heap of `puhui stack` and docker-compose.yml
            "jvmOptions": {"-Xms": "256m", "-Xmx": "512m"},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                          "limits": {"memory": "1Gi"}}}}
    cluster_resource = {
        "apiVersion": "kafka.strimzi.io/v1beta2", "kind": "Kafka",
        "metadata": {"name": table.KAFKA_CLUSTER, "labels": labels("kafka"),
                     # Strimzi 0.45 needs both for KRaft with node pools; later ones ignore them
                     "annotations": {"strimzi.io/node-pools": "enabled",
                                     "strimzi.io/kraft": "enabled"}},
        "spec": {
            "kafka": {
                "version": "4.1.0",  # metadataVersion: the operator takes this version's default
                "listeners": [{"name": "plain", "port": table.KAFKA_PORT, "type": "internal",
                               "tls": False}],
                "config": {**STACK_BROKER, **REPLICATED}},
            "entityOperator": {"topicOperator": {}}}}
    return [cluster_resource, pool]


def topics() -> list[Manifest]:
    return [{"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaTopic",
             "metadata": {"name": name, "labels": {**labels("kafka"),
                                                   "strimzi.io/cluster": table.KAFKA_CLUSTER}},
             "spec": {"topicName": name, "partitions": partitions, "replicas": 3,
                      "config": {"retention.ms": table.topic_retention_ms()[name],
                                 "cleanup.policy": "delete"}}}
            for name, partitions in table.topic_table().items()]


def postgres() -> list[Manifest]:
    return [{
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "metadata": {"name": table.DATABASE_CLUSTER, "labels": labels("postgres")},
        "spec": {
            "instances": 3,
            "imageName": "ghcr.io/cloudnative-pg/postgresql:15",  # docker-compose's postgres:15
            # docker-compose.yml's settings (tests/unit/deploy checks them)
            "postgresql": {"parameters": {"max_connections": "200", "shared_buffers": "256MB",
                                          "work_mem": "16MB", "max_wal_size": "2GB"}},
            "bootstrap": {"initdb": {"database": table.DATABASE_NAME,
                                     "owner": table.DATABASE_NAME}},
            "storage": {"size": "50Gi"},
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"},
                          "limits": {"memory": "2Gi"}}}}]


def monitoring() -> list[Manifest]:
    rules = yaml.safe_load(RULES.read_text())
    scraped = {"app.kubernetes.io/part-of": table.PART_OF, "puhui.io/scrape": "true"}
    return [
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
         "metadata": _metadata("puhui"),
         # the job label is the Service's name: the service's name, as the rules expect
         "spec": {"selector": {"matchLabels": scraped},
                  "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "15s"}]}},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
         "metadata": _metadata("puhui"),
         "spec": {"groups": rules["groups"]}},
    ]


def base_files() -> dict[str, list[Manifest]]:
    """deploy/k8s/base: file name -> its documents."""
    files = {f"{w.name}.yaml": workload_documents(w) for w in table.workloads()}
    files |= {"kafka.yaml": kafka(), "topics.yaml": topics(), "postgres.yaml": postgres(),
              "monitoring.yaml": monitoring()}
    return files
