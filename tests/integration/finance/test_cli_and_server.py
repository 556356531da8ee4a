"""`puhui finance user add` and `token add`/`revoke` on the real database, and what a real
`puhui finance serve` answers to headers too large (h11 would reset the connection)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from click.testing import CliRunner

from puhui.stack.config import StackConfig
from services.finance.cli import finance
from tests.integration.finance.server import finance_server

PASSWORD = "a password long enough"


@pytest.fixture
def cli(stack: StackConfig, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PUHUI_DATABASE_URL", stack.database_url)
    return CliRunner()


def _fetchval(stack: StackConfig, sql: str, *args: object) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(stack.database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_user_add_reads_the_password_from_stdin_never_the_command_line(
        cli: CliRunner, stack: StackConfig) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    refused = cli.invoke(finance, ["user", "add", name, "--role", "viewer",
                                   "--password", PASSWORD])
    assert refused.exit_code == 2
    assert "No such option" in refused.output
    assert _fetchval(stack, "select count(*) from finance_users where username = $1", name) == 0
    made = cli.invoke(finance, ["user", "add", name, "--role", "viewer"], input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    stored = str(_fetchval(stack, "select password_hash from finance_users where username = $1",
                           name))
    assert stored.startswith("scrypt$")
    assert PASSWORD not in stored


def test_token_add_prints_the_token_once_and_revoke_ends_it(
        cli: CliRunner, stack: StackConfig) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    assert cli.invoke(finance, ["user", "add", name, "--role", "approver"],
                      input=PASSWORD + "\n").exit_code == 0
    too_much = cli.invoke(finance, ["token", "add", name, "--role", "admin"])
    assert too_much.exit_code == 1
    assert "cannot be a admin" in too_much.output
    made = cli.invoke(finance, ["token", "add", name, "--role", "viewer", "--days", "2"])
    assert made.exit_code == 0, made.output
    token_id, text = made.stdout.strip().split(".", 1)[0], made.stdout.strip()
    listed = cli.invoke(finance, ["token", "list"])
    assert f"{token_id}\t{name}\tviewer" in listed.output
    assert text not in listed.output
    assert cli.invoke(finance, ["token", "revoke", token_id]).exit_code == 0
    assert _fetchval(stack, "select count(*) from finance_api_tokens where username = $1",
                     name) == 0
    assert _fetchval(stack, "select count(*) from outbox_messages where topic = 'audit' and "
                     "convert_from(value, 'UTF8') like $1", f"%api_token_revoked%{token_id}%") == 1


def test_a_megabyte_of_authorization_header_is_answered_431(
        stack: StackConfig, tmp_path: Path) -> None:
    with finance_server(stack, tmp_path / "serve.log", port=42801) as base:
        huge = httpx.get(f"{base}/api/me", timeout=30,
                         headers={"Authorization": "Bearer " + "x" * 1_000_000})
        assert huge.status_code == 431
        assert huge.json()["code"] == "headers_too_large"
        with socket.create_connection(("127.0.0.1", 42801), timeout=5):
            pass  # and the server still answers
        assert httpx.get(f"{base}/api/me", timeout=5).status_code == 401
