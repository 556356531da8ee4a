"""Bring the whole local stack up, down, or report on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from puhui.stack import readiness
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError
from puhui.stack.kafka import KafkaNode
from puhui.stack.postgres import PostgresNode, remove_tree, server_bindir
from puhui.stack.prometheus import PrometheusNode

Say = Callable[[str], None]
KAFKA_START_ATTEMPTS = 3
KAFKA_READY_SECONDS = 60.0
PROMETHEUS_READY_SECONDS = 30.0


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    pid: int | None
    address: str
    detail: str


def up(config: StackConfig, say: Say, with_prometheus: bool = False) -> None:
    """Start whatever is not running, wait until each server answers, create the topics;
    with Prometheus too when asked (a running one is left alone either way)."""
    preflight(config, with_prometheus)
    config.home.mkdir(parents=True, exist_ok=True)
    _postgres_up(config, say)
    _kafka_up(config, say)
    created = asyncio.run(readiness.ensure_topics(
        config.bootstrap_servers, inbound_retention_days=config.inbound_retention_days))
    say(f"topics: created {', '.join(created)}" if created else "topics: all present")
    if with_prometheus:
        prometheus_up(PrometheusNode(config), say)


def preflight(config: StackConfig, with_prometheus: bool = False) -> None:
    """Fail before starting anything when a tool the stack needs is missing."""
    KafkaNode(config).check_tools()
    if config.external_database_url is None:
        server_bindir()
    if with_prometheus:
        PrometheusNode(config).check_tools()


def prometheus_up(node: PrometheusNode, say: Say) -> None:
    """Start Prometheus scraping the node's targets; a running one reloads a changed config."""
    changed = node.write_config()
    if node.pid() is not None and readiness.prometheus_ready(node.url, 5.0):
        if changed:
            node.reload()
        say(f"prometheus: already running, answering on {node.url}"
            + (" (configuration reloaded)" if changed else ""))
        return
    node.stop()
    started = time.monotonic()
    node.start()
    if not readiness.prometheus_ready(node.url, PROMETHEUS_READY_SECONDS):
        node.stop()
        raise StackError(f"Prometheus did not become ready:\n{node.log_tail()}",
                         f"read {node.log}; `puhui stack status` shows what runs")
    scraped = ", ".join(a for addresses in node.targets.values() for a in addresses)
    say(f"prometheus: started, answering on {node.url}, scraping {scraped} "
        f"({time.monotonic() - started:.1f}s)")


def down(config: StackConfig, say: Say, purge: bool = False) -> None:
    """Stop the servers (Prometheus, then Kafka: it holds no state PostgreSQL needs);
    purge = delete data."""
    prometheus = PrometheusNode(config)
    if prometheus.was_started():
        say("prometheus: stopped" if prometheus.stop() else "prometheus: was not running")
    say("kafka: stopped" if KafkaNode(config).stop() else "kafka: was not running")
    if config.external_database_url is None:
        stopped = PostgresNode(config).stop()
        say("postgres: stopped" if stopped else "postgres: was not running")
    if purge:
        remove_tree(config.home)
        say(f"removed {config.home}")


def status(config: StackConfig) -> list[ComponentStatus]:
    """Kafka and PostgreSQL; Prometheus too once `up --with-prometheus` started it."""
    parts = [_kafka_status(config), _postgres_status(config)]
    prometheus = PrometheusNode(config)
    if prometheus.was_started():
        parts.append(_prometheus_status(prometheus))
    return parts


def _postgres_up(config: StackConfig, say: Say) -> None:
    if config.external_database_url is not None:
        _wait_postgres(config.external_database_url, "the external PostgreSQL", 15.0)
        say(f"postgres: using the server at {config.external_database_url}")
        return
    node = PostgresNode(config)
    started = time.monotonic()
    if node.init_cluster():
        say(f"postgres: cluster created in {node.data}")
    if node.pid() is None:
        node.start()
        action = "started"
    else:
        action = "already running"
    server = f"postgresql://puhui@{config.host}:{config.pg_port}/postgres"
    _wait_postgres(server, "PostgreSQL", 60.0, node.log_tail)
    asyncio.run(readiness.ensure_database(server, "puhui"))
    say(f"postgres: {action}, answering on {config.host}:{config.pg_port} "
        f"({time.monotonic() - started:.1f}s)")


def _wait_postgres(dsn: str, what: str, timeout: float,
                   log_tail: Callable[[], str] | None = None) -> None:
    if not asyncio.run(readiness.postgres_answers(dsn, timeout)):
        detail = f":\n{log_tail()}" if log_tail else ""
        raise StackError(f"{what} does not answer at {dsn} after {timeout:.0f}s{detail}",
                         "check the log above; `puhui stack status` shows what runs")


def _kafka_up(config: StackConfig, say: Say) -> None:
    node = KafkaNode(config)
    started = time.monotonic()
    if node.fetch_jars():
        say(f"kafka: jars fetched with Maven into {node.paths.libs} "
            f"({time.monotonic() - started:.1f}s)")
    node.write_config()
    node.format_storage()
    if node.pid() is not None and asyncio.run(
            readiness.kafka_answers(config.bootstrap_servers, KAFKA_READY_SECONDS)):
        say(f"kafka: already running, answering on {config.bootstrap_servers}")
        return
    node.stop()
    for attempt in range(1, KAFKA_START_ATTEMPTS + 1):
        node.start()
        if asyncio.run(readiness.kafka_answers(config.bootstrap_servers, KAFKA_READY_SECONDS)):
            say(f"kafka: started, answering on {config.bootstrap_servers} "
                f"({time.monotonic() - started:.1f}s)")
            return
        say(f"kafka: not answering after {KAFKA_READY_SECONDS:.0f}s "
            f"(attempt {attempt} of {KAFKA_START_ATTEMPTS}); restarting it")
        node.stop()
    raise StackError(f"the Kafka broker did not become ready:\n{node.log_tail()}",
                     f"read {node.paths.logs / 'server.log'}; on a loaded machine try again, "
                     "or start afresh with `puhui stack down --purge`")


def _kafka_status(config: StackConfig) -> ComponentStatus:
    node = KafkaNode(config)
    pid = node.pid()
    answers = pid is not None and asyncio.run(
        readiness.kafka_answers(config.bootstrap_servers, 5.0))
    return ComponentStatus("kafka", answers, pid, config.bootstrap_servers,
                           _detail(pid, answers, node.listening()))


def _postgres_status(config: StackConfig) -> ComponentStatus:
    if config.external_database_url is not None:
        answers = asyncio.run(readiness.postgres_answers(config.external_database_url, 5.0))
        return ComponentStatus("postgres", answers, None, config.external_database_url,
                               "external server, " + ("answering" if answers else "NOT answering"))
    node = PostgresNode(config)
    pid = node.pid()
    answers = pid is not None and asyncio.run(
        readiness.postgres_answers(config.database_url, 5.0))
    return ComponentStatus("postgres", answers, pid, f"{config.host}:{config.pg_port}",
                           _detail(pid, answers, node.listening()))


def _prometheus_status(node: PrometheusNode) -> ComponentStatus:
    pid = node.pid()
    answers = pid is not None and readiness.prometheus_ready(node.url, 5.0)
    return ComponentStatus("prometheus", answers, pid, node.address,
                           _detail(pid, answers, node.listening()))


def _detail(pid: int | None, answers: bool, listening: bool) -> str:
    if answers:
        return "running and answering"
    if pid is None:
        return "down: another program holds the port" if listening else "down: no process"
    return "process alive but NOT answering"
