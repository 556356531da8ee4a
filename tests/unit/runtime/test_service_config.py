"""A service's configuration: literal defaults, the environment's values, a bad key named."""

from __future__ import annotations

import dataclasses

import pytest

from services.runtime.config import ConfigError, Connections, ServiceConfig


def test_with_nothing_set_it_is_the_local_stack_on_its_default_ports() -> None:
    config = ServiceConfig.from_env({})
    assert config.connections.kafka_bootstrap == "127.0.0.1:9092"
    assert config.connections.database_url == "postgresql://puhui@127.0.0.1:5433/puhui"
    assert config.connections.role_passwords == {}
    assert config.metrics_host == "127.0.0.1"
    assert [config.metrics_port(s) for s in ("enrolment", "disbursement", "audit", "relay")] == [
        9101, 9102, 9103, 9104]


def test_the_stacks_ports_move_the_defaults() -> None:
    config = ServiceConfig.from_env({"PUHUI_KAFKA_PORT": "43092", "PUHUI_PG_PORT": "43433",
                                     "PUHUI_METRICS_PORT": "43300"})
    assert config.connections.kafka_bootstrap == "127.0.0.1:43092"
    assert config.connections.database_url == "postgresql://puhui@127.0.0.1:43433/puhui"
    assert config.metrics_port("relay") == 43303


def test_explicit_addresses_win_over_ports() -> None:
    env = {"PUHUI_KAFKA_BOOTSTRAP": "kafka:19092", "PUHUI_KAFKA_PORT": "not read",
           "PUHUI_DATABASE_URL": "postgresql://db:5432/puhui", "PUHUI_PG_PORT": "not read",
           "PUHUI_METRICS_HOST": "0.0.0.0", "PUHUI_DB_PASSWORD_RELAY": "s3cret"}  # noqa: S104
    config = ServiceConfig.from_env(env)
    assert config.connections == Connections("kafka:19092", "postgresql://db:5432/puhui",
                                             {"relay": "s3cret"})
    assert config.metrics_host == "0.0.0.0"  # noqa: S104  # as set


def test_an_external_database_is_the_stacks_own_fallback() -> None:
    config = ServiceConfig.from_env({"PUHUI_EXTERNAL_DATABASE_URL": "postgresql://u@db:5432/x"})
    assert config.connections.database_url == "postgresql://u@db:5432/x"


@pytest.mark.parametrize(("key", "value"), [
    ("PUHUI_KAFKA_PORT", "kafka"), ("PUHUI_PG_PORT", "80"), ("PUHUI_METRICS_PORT", "65530"),
    ("PUHUI_METRICS_PORT", "-1"),
])
def test_a_bad_value_is_refused_naming_its_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key}='{value}' is not a port from 1024 to "):
        ServiceConfig.from_env({key: value})


def test_it_is_frozen() -> None:
    config = ServiceConfig.from_env({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.metrics_host = "0.0.0.0"  # type: ignore[misc]  # noqa: S104  # the point
