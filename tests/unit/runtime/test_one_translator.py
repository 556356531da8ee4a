"""Each service's translation of asyncpg errors is the runtime's, with only what differs:
the ledger its race, audit its missing trail, finance the driver's message left out."""

from __future__ import annotations

import ast
from pathlib import Path

import asyncpg
import pytest

from services.audit.adapters.errors import TrailMissing
from services.audit.adapters.errors import translated as audit_translated
from services.finance.adapters.errors import translated as finance_translated
from services.runtime.errors import TransientFailure
from services.runtime.pg_errors import TRANSIENT

SERVICES = Path(__file__).resolve().parents[3] / "services"
BUGS = [asyncpg.CheckViolationError("budget"), asyncpg.UniqueViolationError("twice"),
        asyncpg.InsufficientPrivilegeError("grant"), ValueError("bug")]


@pytest.mark.parametrize("translated", [audit_translated, finance_translated])
async def test_every_service_retries_what_the_runtime_calls_transient(translated: object) -> None:
    for kind in TRANSIENT:
        error = kind("gone") if kind is not asyncpg.InterfaceError else kind("closed")
        with pytest.raises(TransientFailure):
            async with translated("read"):  # type: ignore[operator]  # either adapter's
                raise error


@pytest.mark.parametrize("error", BUGS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("translated", [audit_translated, finance_translated])
async def test_a_bug_or_a_broken_constraint_is_never_retried(translated: object,
                                                             error: Exception) -> None:
    """Audit used to retry every PostgresError: a broken constraint retried ten times."""
    with pytest.raises(type(error)):
        async with translated("read"):  # type: ignore[operator]  # either adapter's
            raise error


async def test_audit_names_a_missing_trail() -> None:
    with pytest.raises(TrailMissing, match="run `puhui db migrate` as its owner first"):
        async with audit_translated("read the audit trail"):
            raise asyncpg.UndefinedTableError("audit_trail")


async def test_audit_says_what_it_could_not_do_and_why() -> None:
    with pytest.raises(TransientFailure,
                       match=r"^could not read the audit trail: OSError: reset$"):
        async with audit_translated("read the audit trail"):
            raise OSError("reset")


async def test_finance_shows_no_drivers_message() -> None:
    with pytest.raises(TransientFailure, match=r"^read a session: OSError$"):
        async with finance_translated("read a session"):
            raise OSError("10.0.0.7:5432 refused")


def _catches_a_driver_error(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (isinstance(node, ast.ExceptHandler) and node.type is not None
                and "asyncpg." in ast.unparse(node.type)):
            return True
    return False


def test_no_service_adapter_catches_driver_errors_itself() -> None:
    """The runtime translates; an adapter names what differs (the CLIs and the supervisor,
    which report to a person, are not adapters)."""
    catching = sorted(str(p.relative_to(SERVICES)) for p in SERVICES.rglob("adapters/*.py")
                      if _catches_a_driver_error(ast.parse(p.read_text())))
    assert catching == []
