"""The finance page's translation of asyncpg errors: the runtime's, less the driver's message,
since the page shows a failure to its users (503 "the database did not answer: ...")."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from services.runtime.pg_errors import translate_errors


def translated(doing: str) -> AbstractAsyncContextManager[None]:
    """`translate_errors` for the finance page: what differs is `say_why=False` alone."""
    return translate_errors(doing, say_why=False)
