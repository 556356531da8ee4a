"""`PUHUI_METRICS_PORT` moves the whole block of `/metrics` ports: what `puhui run` gives its
services and what the stack's Prometheus scrapes stay the same list (issue #10)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from puhui.stack import prometheus
from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError
from puhui.supervisor import children


def _ports(instances: int, first: int) -> dict[str, int]:
    return {c.name: int(c.argv[c.argv.index("--metrics-port") + 1])
            for c in children(instances, first)}


def test_the_default_block_is_9101_to_9104_then_9111_for_extra_instances() -> None:
    assert _ports(3, 9101) == {"enrolment": 9101, "disbursement-1": 9102, "disbursement-2": 9111,
                               "disbursement-3": 9112, "audit": 9103, "relay": 9104}


def test_puhui_run_takes_its_ports_from_the_block_the_environment_names(tmp_path: Path) -> None:
    config = StackConfig.from_env({"PUHUI_STACK_DIR": str(tmp_path),
                                   "PUHUI_METRICS_PORT": "43100"})
    assert _ports(2, config.metrics_port) == {"enrolment": 43100, "disbursement-1": 43101,
                                              "disbursement-2": 43110, "audit": 43102,
                                              "relay": 43103}
    node = prometheus.PrometheusNode(config)
    node.write_config()
    scraped = yaml.safe_load(node.config_file.read_text())["scrape_configs"]
    assert {job["job_name"]: job["static_configs"][0]["targets"] for job in scraped} == {
        "enrolment": ["127.0.0.1:43100"], "disbursement": ["127.0.0.1:43101"],
        "audit": ["127.0.0.1:43102"], "relay": ["127.0.0.1:43103"]}


def test_a_bad_metrics_port_is_named() -> None:
    with pytest.raises(StackError, match="PUHUI_METRICS_PORT"):
        StackConfig.from_env({"PUHUI_METRICS_PORT": "http"})
