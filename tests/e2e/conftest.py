"""The e2e tier runs on the real stack (see tests/stack_fixture.py)."""

from tests.stack_fixture import stack

__all__ = ["stack"]
