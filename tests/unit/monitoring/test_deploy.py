"""deploy/: the scrape configuration, the alerting rules and the dashboard agree with the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from puhui.settings import METRICS_PORTS
from puhui.stack import prometheus
from tests.unit.monitoring.catalogue import REPO, documented

DEPLOY = REPO / "deploy"
HISTOGRAM_PARTS = ("_bucket", "_sum", "_count")


def _dashboard() -> dict[str, Any]:
    loaded = json.loads((DEPLOY / "grafana/dashboards/puhui.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _queries() -> list[str]:
    return [t["expr"] for p in _dashboard()["panels"] for t in p.get("targets", [])]


def _rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load((DEPLOY / "prometheus/rules/puhui.yml").read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def _names_in(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:puhui|process|python)_[a-z_]+)", expr))


def _known() -> set[str]:
    names = set()
    for entry in documented():
        names.add(entry.name)
        if entry.type == "histogram":
            names |= {entry.name + part for part in HISTOGRAM_PARTS}
    return names


def test_compose_scrape_config_is_generated_from_the_code() -> None:
    committed = (DEPLOY / "prometheus/prometheus.yml").read_text()
    assert committed == prometheus.compose_config(), (
        "regenerate: python -m puhui.stack.prometheus > deploy/prometheus/prometheus.yml")


def test_every_service_is_scraped_on_its_metrics_port() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"]
            for job in config["scrape_configs"]}
    assert jobs == {name: [f"{name}:{port}"] for name, port in METRICS_PORTS.items()}


def test_the_stack_config_scrapes_loopback(tmp_path: Path) -> None:
    from puhui.stack.config import StackConfig

    node = prometheus.PrometheusNode(StackConfig(home=tmp_path))
    assert node.write_config()
    assert not node.write_config()  # unchanged: a running server needs no reload
    config = yaml.safe_load(node.config_file.read_text())
    targets = [t for job in config["scrape_configs"] for t in job["static_configs"][0]["targets"]]
    assert targets == [f"127.0.0.1:{port}" for port in METRICS_PORTS.values()]
    assert config["rule_files"] == [f"{DEPLOY / 'prometheus/rules'}/*.yml"]


def test_the_dashboard_shows_every_metric_of_the_catalogue() -> None:
    shown = set().union(*(_names_in(q) for q in _queries()))
    missing = []
    for entry in documented():
        parts = {entry.name + p for p in HISTOGRAM_PARTS} if entry.type == "histogram" else set()
        if entry.name not in shown and not parts & shown:
            missing.append(entry.name)
    assert missing == [], "not on the dashboard"


def test_dashboard_and_rules_use_only_catalogued_metrics() -> None:
    used = set().union(*(_names_in(q) for q in _queries()),
                       *(_names_in(rule["expr"]) for rule in _rules()))
    assert sorted(used - _known()) == []


def test_rules_cover_what_operations_asked_for() -> None:
    alerts = {rule["alert"] for rule in _rules()}
    assert alerts >= {"PuhuiServiceDown", "PuhuiConsumerLagGrowing", "PuhuiDeadLetterRate",
                      "PuhuiBudgetNearlyUsedUp", "PuhuiOutboxStuck", "PuhuiPayoutLatencyHigh"}
    for rule in _rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


def test_grafana_provisions_the_datasource_the_dashboard_uses() -> None:
    sources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml")
                             .read_text())["datasources"]
    uids = {source["uid"] for source in sources}
    used = {p["datasource"]["uid"] for p in _dashboard()["panels"] if "datasource" in p}
    assert used
    assert used <= uids
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/puhui.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
