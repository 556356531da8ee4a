"""The manifests of deploy/k8s/base, as data built from puhui/kube/table.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from puhui.kube import table
from puhui.kube.table import Workload
from puhui.settings import password_variable
from puhui.stack.kafka import LOG_RETENTION_HOURS
from puhui.stack.postgres import SERVER_SETTINGS

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


def _secret_env(variable: str, secret: str, key: str) -> Manifest:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _role_password(service: str) -> Manifest:
    """The password of `service`'s own role, where `Connections.from_env` looks for it."""
    return _secret_env(password_variable(service), table.role_secret(service),
                       table.PASSWORD_KEY)


def _database_env(w: Workload) -> list[Manifest]:
    """Where the database is, and this workload's own role's password (the URL names no
    user: the code signs in as `puhui_<name>`; the owner's Secret stays with the migrate Job)."""
    return [{"name": "PUHUI_DATABASE_URL", "value": table.DATABASE_URL}, _role_password(w.name)]


def _env(w: Workload) -> list[Manifest]:
    env: list[Manifest] = []
    if w.kafka:
        env.append({"name": "PUHUI_KAFKA_BOOTSTRAP", "value": table.KAFKA_BOOTSTRAP})
    env += _database_env(w)
    if w.scraped:
        # the port is the default one of the block 9101-9104 (PUHUI_METRICS_PORT moves the
        # block's first port, not this service's: 9102 there put disbursement on 9103)
        env.append({"name": "PUHUI_METRICS_HOST", "value": "0.0.0.0"})  # noqa: S104  # scraped from outside the pod
    if w.name == "audit":
        env += [{"name": "PUHUI_AUDIT_SIGNING_KEY", "value": f"{table.AUDIT_KEY_DIR}/key"},
                {"name": "PUHUI_AUDIT_ANCHOR_SECONDS", "value": str(table.AUDIT_ANCHOR_SECONDS)}]
    env += [{"name": name, "value": value} for name, value in w.env]
    return env


def _probe(path: str, port: str, period: int, failures: int) -> Manifest:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period,
            "timeoutSeconds": 2, "failureThreshold": failures}


SECURE = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
          "capabilities": {"drop": ["ALL"]}}
SMALL = {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"memory": "192Mi"}}
"""A one-shot `puhui db ...` process: the CLI, asyncpg and one connection."""


def _mounts(w: Workload) -> list[Manifest]:
    mounts: list[Manifest] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108  # the pod's own
    if w.name == "audit":
        mounts.append({"name": "audit-anchors", "mountPath": table.AUDIT_KEY_DIR,
                       "readOnly": True})
    return mounts


def _volumes(w: Workload) -> list[Manifest]:
    volumes: list[Manifest] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if w.name == "audit":
        # 0440 and the pod's group (fsGroup): readable by the service's uid, no one else's
        volumes.append({"name": "audit-anchors", "secret": {
            "secretName": table.AUDIT_KEY_SECRET, "defaultMode": 0o440}})
    return volumes


def _wait_for_schema(w: Workload) -> Manifest:
    """Runs before the service: until the migrate Job has migrated and set this role's
    password, the service would stop at once (exit 3) and back off in CrashLoopBackOff."""
    return {"name": "wait-for-schema", "image": table.IMAGE, "imagePullPolicy": "IfNotPresent",
            "args": ["db", "wait", w.name, "--timeout", "3600"],
            "env": _database_env(w), "resources": SMALL, "securityContext": SECURE}


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
        # the pool, the schema check and the consumer's join: up to five minutes
        "startupProbe": _probe(w.live_path, w.port_name, 5, 60),
        "livenessProbe": _probe(w.live_path, w.port_name, 10, 3),
        "readinessProbe": _probe(w.ready_path, w.port_name, 5, 2),
        "securityContext": SECURE,
        "volumeMounts": _mounts(w),
    }


POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


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
                    "securityContext": POD_SECURITY,
                    "terminationGracePeriodSeconds": 30,  # SIGTERM: the batch commits, then exit
                    "initContainers": [_wait_for_schema(w)],
                    "containers": [_container(w)],
                    "volumes": _volumes(w),
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


def migrate_job() -> Manifest:
    """`puhui db migrate` as the schema's owner (CloudNativePG's app Secret): the migrations,
    grants.sql, then each service role's password from its Secret. The services' init
    containers wait for it; a new release is a new Job (its name carries the version)."""
    env = [{"name": "PUHUI_DATABASE_URL", "value": table.DATABASE_URL},
           # asyncpg signs in with PGUSER and PGPASSWORD when the URL names no user
           _secret_env("PGUSER", table.APP_SECRET, "username"),
           _secret_env("PGPASSWORD", table.APP_SECRET, "password"),
           *(_role_password(service) for service in table.database_roles())]
    container = {"name": "migrate", "image": table.IMAGE, "imagePullPolicy": "IfNotPresent",
                 "args": ["db", "migrate"], "env": env, "resources": SMALL,
                 "securityContext": SECURE}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _metadata(table.MIGRATE_JOB),
            "spec": {"backoffLimit": 10, "template": {
                "metadata": {"labels": labels(table.MIGRATE_JOB)},
                "spec": {"restartPolicy": "OnFailure", "securityContext": POD_SECURITY,
                         "containers": [container]}}}}


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
        # KRaft and node pools need no annotations from Strimzi 0.46 on (Kafka 4.1: 0.48)
        "metadata": {"name": table.KAFKA_CLUSTER, "labels": labels("kafka")},
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
            # the local stack's and docker-compose.yml's (tests/unit/deploy checks them)
            "postgresql": {"parameters": dict(SERVER_SETTINGS)},
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
    files |= {"migrate.yaml": [migrate_job()], "kafka.yaml": kafka(), "topics.yaml": topics(),
              "postgres.yaml": postgres(), "monitoring.yaml": monitoring()}
    return files
