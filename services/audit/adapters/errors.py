"""The audit trail's translation of asyncpg errors: the runtime's, plus one error of its own
(no trail table yet: the owner has never migrated), named explicitly."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import asyncpg

from services.runtime.pg_errors import translate_errors


class TrailMissing(Exception):
    """The database has no audit trail yet: its owner has never migrated it."""


def trail_missing() -> TrailMissing:
    return TrailMissing(
        "this database has no audit trail: run `puhui db migrate` as its owner first")


def translated(what: str) -> AbstractAsyncContextManager[None]:
    """`translate_errors` for the trail: what differs is `UndefinedTableError` alone."""
    return translate_errors(f"could not {what}",
                            instead={asyncpg.UndefinedTableError: trail_missing})
