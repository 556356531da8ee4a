"""A single-node Apache Kafka broker in KRaft mode, its jars from Maven Central through `mvn`."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from puhui.stack import process
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError

MIN_JAVA = 17
_RESOURCES = resources.files("puhui.stack") / "resources"


def new_cluster_id() -> str:
    """A random KRaft cluster id, as Kafka's own ``Uuid.randomUuid`` makes it.

    The id is URL-safe base64, so one in 64 starts with "-", which the storage
    tool's argument parser reads as an option. Kafka redraws such ids; so do we.
    """
    while True:
        cluster_id = urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


@dataclass(frozen=True)
class KafkaPaths:
    root: Path

    @property
    def libs(self) -> Path:
        return self.root / "libs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pid_file(self) -> Path:
        return self.root / "kafka.pid"

    @property
    def properties(self) -> Path:
        return self.root / "server.properties"


class KafkaNode:
    """The broker's files and process; every method is safe to call twice."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.paths = KafkaPaths(config.home / "kafka")

    def pid(self) -> int | None:
        return process.read_pid(self.paths.pid_file)

    def listening(self) -> bool:
        return process.port_open(self.config.host, self.config.kafka_port)

    def check_tools(self) -> None:
        """Java always; Maven only while the jars are not cached yet."""
        _require_java()
        if not self._jars_cached():
            _require_tool("mvn", "Maven", "apt-get install maven")

    def _jars_cached(self) -> bool:
        marker = self.paths.libs / ".complete"
        return marker.exists() and marker.read_text() == _pom_digest()

    def fetch_jars(self) -> bool:
        """Copy the broker's jars from Maven into the stack folder; False when already there."""
        if self._jars_cached():
            return False
        pom = _RESOURCES / "kafka-pom.xml"
        mvn = _require_tool("mvn", "Maven", "apt-get install maven")
        _require_java()
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.paths.libs, ignore_errors=True)
        log = self.paths.logs / "mvn.log"
        with resources.as_file(pom) as pom_path, log.open("wb") as out:
            done = subprocess.run(
                [mvn, "-B", "-q", "-f", str(pom_path), "dependency:copy-dependencies",
                 f"-DoutputDirectory={self.paths.libs}", "-DincludeScope=runtime"],
                stdout=out, stderr=subprocess.STDOUT, check=False,
            )
        if done.returncode != 0:
            raise StackError(
                f"Maven could not fetch the Kafka broker's jars:\n{process.tail(log)}",
                "check that Maven Central is reachable (or ~/.m2 holds the jars), then run "
                "`puhui stack up` again",
            )
        (self.paths.libs / ".complete").write_text(_pom_digest())
        return True

    def write_config(self) -> None:
        self.paths.root.mkdir(parents=True, exist_ok=True)
        self.paths.properties.write_text(_server_properties(self.config, self.paths.data))

    def format_storage(self) -> None:
        """Format the KRaft metadata log once; a formatted folder is left alone."""
        if (self.paths.data / "meta.properties").exists():
            return
        self._java("kafka.tools.StorageTool", "format", "-t", new_cluster_id(),
                   "-c", str(self.paths.properties), log_name="format.log")

    def start(self) -> int:
        """Start the broker process; returns its pid. Readiness is checked by the caller."""
        process.require_free_port(self.config.host, self.config.kafka_port,
                                  "the Kafka broker", "PUHUI_KAFKA_PORT")
        process.require_free_port(self.config.host, self.config.controller_port,
                                  "the Kafka KRaft controller", "PUHUI_KAFKA_CONTROLLER_PORT")
        return process.spawn(self._argv("kafka.Kafka", str(self.paths.properties)),
                             self.paths.logs / "stdout.log", self.paths.pid_file, self._env())

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        process.terminate(pid)
        self.paths.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self) -> str:
        return process.tail(self.paths.logs / "server.log")

    def _java(self, main: str, *args: str, log_name: str) -> None:
        log = self.paths.logs / log_name
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            done = subprocess.run(self._argv(main, *args), stdout=out, stderr=subprocess.STDOUT,
                                  env=self._env(), check=False)
        if done.returncode != 0:
            raise StackError(f"{main} failed:\n{process.tail(log)}",
                             f"see {log}; `puhui stack down --purge` starts the broker afresh")

    def _argv(self, main: str, *args: str) -> list[str]:
        heap = f"{self.config.kafka_heap_mb}m"
        log4j = _RESOURCES / "log4j2.properties"
        return [
            _require_java(), f"-Xmx{heap}", f"-Xms{min(self.config.kafka_heap_mb, 256)}m",
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true", f"-Dkafka.logs.dir={self.paths.logs}",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp", f"{self.paths.libs}/*", main, *args,
        ]

    def _env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")}


LOG_RETENTION_HOURS = 168
"""How long the broker keeps every topic (a week); deploy/k8s sets each KafkaTopic's to it."""


def _pom_digest() -> str:
    return hashlib.sha256((_RESOURCES / "kafka-pom.xml").read_bytes()).hexdigest()


def _server_properties(config: StackConfig, data: Path) -> str:
    host = config.host
    return "\n".join([
        "# Written by `puhui stack up`; edits are overwritten.",
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{host}:{config.controller_port}",
        f"listeners=PLAINTEXT://{host}:{config.kafka_port},CONTROLLER://{host}:{config.controller_port}",
        f"advertised.listeners=PLAINTEXT://{host}:{config.kafka_port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data}",
        "num.partitions=1",
        "auto.create.topics.enable=false",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=8",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "num.network.threads=2",
        "num.io.threads=4",
        f"log.retention.hours={LOG_RETENTION_HOURS}",
        "",
    ])


def _require_tool(name: str, what: str, install: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{what} (`{name}`) is not installed; the Kafka broker needs it",
                         f"run `make setup`, or install it yourself: {install}")
    return found


@functools.cache
def _require_java() -> str:
    java = _require_tool("java", f"Java {MIN_JAVA} or newer",
                         "apt-get install openjdk-17-jre-headless")
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', done.stderr + done.stdout)
    if match is None or int(match.group(1)) < MIN_JAVA:
        raise StackError(f"Java {MIN_JAVA} or newer is needed; `{java} -version` says: "
                         f"{(done.stderr or done.stdout).strip().splitlines()[:1]}",
                         "install a newer Java: apt-get install openjdk-17-jre-headless")
    return java
