"""The `stack` fixture of the integration and e2e tiers: the real Kafka broker and PostgreSQL
from `puhui stack`, the one the environment names (scripts/test points it at .stack-test on
ports of its own). `up` is idempotent: a running stack is reused, a stopped one started."""

from __future__ import annotations

import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig


@pytest.fixture(scope="session")
def stack() -> StackConfig:
    config = StackConfig.from_env()
    lifecycle.up(config, lambda _line: None)
    return config
