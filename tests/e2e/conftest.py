"""The e2e tier runs real processes on the real Kafka broker and PostgreSQL from `puhui stack`.

The stack is the one named by the environment (scripts/test points it at .stack-test on ports
of its own); `up` is idempotent, so a running stack is reused and a stopped one is started.
"""

from __future__ import annotations

import pytest

from puhui.stack import lifecycle
from puhui.stack.config import StackConfig


@pytest.fixture(scope="session")
def stack() -> StackConfig:
    config = StackConfig.from_env()
    lifecycle.up(config, lambda _line: None)
    return config
