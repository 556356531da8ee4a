"""Stack settings: defaults, overrides, and a clear error for a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from puhui.stack.config import StackConfig
from puhui.stack.errors import StackError
from schemas.topics import topic_configs


def test_defaults() -> None:
    config = StackConfig.from_env({})
    assert (config.kafka_port, config.controller_port, config.pg_port) == (9092, 9093, 5433)
    assert config.home == Path(".stack").resolve()
    assert config.bootstrap_servers == "127.0.0.1:9092"
    assert config.database_url == "postgresql://puhui@127.0.0.1:5433/puhui"


def test_overrides() -> None:
    config = StackConfig.from_env(
        {"PUHUI_KAFKA_PORT": "39092", "PUHUI_PG_PORT": "35433",
         "PUHUI_STACK_DIR": "/srv/puhui-stack"})
    assert config.bootstrap_servers == "127.0.0.1:39092"
    assert config.database_url.endswith(":35433/puhui")
    assert config.home == Path("/srv/puhui-stack")


def test_external_database_url_wins() -> None:
    config = StackConfig.from_env({"PUHUI_EXTERNAL_DATABASE_URL": "postgresql://u@db:5432/x"})
    assert config.database_url == "postgresql://u@db:5432/x"


@pytest.mark.parametrize("raw", ["abc", "80", "70000", "-1"])
def test_bad_port_names_the_key(raw: str) -> None:
    with pytest.raises(StackError) as caught:
        StackConfig.from_env({"PUHUI_PG_PORT": raw})
    assert "PUHUI_PG_PORT" in caught.value.problem
    assert "1024 to 65535" in caught.value.remedy


def test_prometheus_port_default_and_override() -> None:
    assert StackConfig.from_env({}).prometheus_port == 9190  # 9090 is Debian's own service's
    assert StackConfig.from_env({"PUHUI_PROMETHEUS_PORT": "29190"}).prometheus_port == 29190


def test_inbound_retention_is_400_days_unless_configured() -> None:
    assert StackConfig.from_env({}).inbound_retention_days == 400
    configured = StackConfig.from_env({"PUHUI_INBOUND_RETENTION_DAYS": "800"})
    assert configured.inbound_retention_days == 800
    with pytest.raises(StackError) as caught:
        StackConfig.from_env({"PUHUI_INBOUND_RETENTION_DAYS": "0"})
    assert "PUHUI_INBOUND_RETENTION_DAYS" in caught.value.problem


def test_only_the_inbound_topics_get_a_retention_of_their_own() -> None:
    configs = topic_configs(400)
    day_ms = 24 * 3600 * 1000
    assert {name: c.get("retention.ms") for name, c in configs.items()} == {
        "card.transactions": str(400 * day_ms), "member.enrolment": str(400 * day_ms),
        "clock.days": str(400 * day_ms), "payouts": None, "audit": None,
        "puhui.dead-letters": None, "puhui.signals": None}
