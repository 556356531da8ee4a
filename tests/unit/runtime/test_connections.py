"""Each service signs in as its own role: the owner's URL with the role and its password."""

from __future__ import annotations

from puhui.settings import Connections


def test_a_service_url_replaces_the_owner_and_keeps_the_rest() -> None:
    env = {"PUHUI_DATABASE_URL": "postgresql://puhui:owner@db.internal:5432/puhui?sslmode=require",
           "PUHUI_DB_PASSWORD_AUDIT": "p@ss/w:rd", "PUHUI_DB_PASSWORD_RELAY": ""}
    connections = Connections.from_env(env)
    assert connections.database_url == env["PUHUI_DATABASE_URL"]
    assert connections.service_database_url("audit") == (
        "postgresql://puhui_audit:p%40ss%2Fw%3Ard@db.internal:5432/puhui?sslmode=require")
    assert connections.service_database_url("relay") == (
        "postgresql://puhui_relay@db.internal:5432/puhui?sslmode=require")
