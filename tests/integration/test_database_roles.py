"""Each service's PostgreSQL role (migration 0006) on the real server: it can neither change
the audit trail nor get round its trigger, and every table is granted to some service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from puhui.settings import DATABASE_SERVICES, Connections, database_role
from puhui.stack.config import StackConfig
from services.cli import NOT_STARTING_EXIT, migrate_as_owner

FORBIDDEN = (
    "update audit_trail set amount_fen = amount_fen",
    "delete from audit_trail",
    "truncate audit_trail",
    "alter table audit_trail disable trigger audit_trail_append_only",
    "drop trigger audit_trail_append_only on audit_trail",
    "set session_replication_role = replica",
    "insert into schema_migrations (version, name) values (9999, 'forged')",
)
UNGRANTED_TABLES = """
select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')
   and not exists (select from unnest($1::text[]) as r(role)
                    where has_table_privilege(r.role, c.oid, 'select, insert, update'))
"""


def _as(stack: StackConfig, service: str) -> str:
    return Connections("", stack.database_url).service_database_url(service)


@pytest.fixture
async def owner(stack: StackConfig) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.mark.parametrize("service", DATABASE_SERVICES)
@pytest.mark.parametrize("statement", FORBIDDEN)
async def test_no_service_role_can_change_the_trail_or_get_round_its_trigger(
        stack: StackConfig, service: str, statement: str) -> None:
    conn = await asyncpg.connect(_as(stack, service))
    try:
        assert await conn.fetchval("select current_user") == database_role(service)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with conn.transaction():  # rolled back, whatever happens
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_every_table_is_granted_to_a_service_role(owner: asyncpg.Connection) -> None:
    roles = [database_role(service) for service in DATABASE_SERVICES]
    assert [row["relname"] for row in await owner.fetch(UNGRANTED_TABLES, roles)] == []


async def test_migrate_gives_each_role_the_password_the_environment_names(
        stack: StackConfig, owner: asyncpg.Connection) -> None:
    lines = await asyncio.to_thread(
        migrate_as_owner, Connections("", stack.database_url, {"relay": "not in the db"}))
    try:
        assert "password set for role puhui_relay" in lines
        stored = await owner.fetchval(
            "select rolpassword from pg_authid where rolname = 'puhui_relay'")
        assert stored.startswith("SCRAM-SHA-256$")
    finally:
        await owner.execute("alter role puhui_relay password null")


async def test_a_service_refuses_to_start_on_a_database_not_migrated(
        stack: StackConfig, owner: asyncpg.Connection) -> None:
    name = f"puhui_unmigrated_{uuid.uuid4().hex[:8]}"
    await owner.execute(f'create database "{name}"')
    try:
        url = stack.database_url.rsplit("/", 1)[0] + f"/{name}"
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "puhui", "service", "relay", "--metrics-port", "44151"],
            env={**os.environ, "PUHUI_DATABASE_URL": url}, capture_output=True, text=True,
            timeout=60, check=False)
    finally:
        await owner.execute(f'drop database "{name}" with (force)')
    assert done.returncode == NOT_STARTING_EXIT, done.stderr
    assert "the database schema is behind this code (missing 0001_runtime" in done.stderr
    assert "run `puhui db migrate` as the schema's owner first" in done.stderr


def _wait(url: str, timeout: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # this interpreter, fixed arguments
        [sys.executable, "-m", "puhui", "db", "wait", "relay", "--timeout", str(timeout)],
        env={**os.environ, "PUHUI_DATABASE_URL": url}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


async def test_db_wait_returns_once_the_owner_has_migrated(
        stack: StackConfig, owner: asyncpg.Connection) -> None:
    """The init container of every pod (deploy/k8s): it waits out the migrate Job."""
    name = f"puhui_waiting_{uuid.uuid4().hex[:8]}"
    await owner.execute(f'create database "{name}"')
    url = stack.database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        waiting, giving_up = _wait(url, 120), _wait(url, 2)
        _, gave_up = await asyncio.to_thread(giving_up.communicate, timeout=60)
        assert giving_up.returncode == NOT_STARTING_EXIT
        assert "after 2s: the database schema is behind this code" in gave_up
        assert waiting.poll() is None  # still waiting
        await asyncio.to_thread(migrate_as_owner, Connections("", url))
        out, err = await asyncio.to_thread(waiting.communicate, timeout=60)
        assert waiting.returncode == 0, err
        assert "relay: the schema is current" in out
    finally:
        await owner.execute(f'drop database "{name}" with (force)')
