"""`puhui audit`: check the audit trail from the database, as finance would."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import click

from puhui.progress import progress
from puhui.settings import Connections
from services.audit.adapters.errors import TrailMissing
from services.audit.adapters.reader import snapshot
from services.audit.service_layer.verification import Verdict, Verified, verify_trail
from services.runtime.errors import TransientFailure


@click.group()
def audit() -> None:
    """The audit trail: every decision, append-only and hash-chained."""


@audit.command()
def verify() -> None:
    """Recompute every hash of the audit chain in seq order.

    Prints the record count and the head hash, or names the first record that does not fit
    the chain and exits 1. The database is PUHUI_DATABASE_URL (default: the local stack's).
    """
    database_url = Connections.from_env().database_url
    try:
        verdict = asyncio.run(_verify(database_url))
    except (TransientFailure, TrailMissing) as failure:
        raise click.ClickException(str(failure)) from None
    click.echo(str(verdict))
    if not isinstance(verdict, Verified):
        raise SystemExit(1)


async def _verify(database_url: str) -> Verdict:
    async with snapshot(database_url) as trail:
        recorded = await trail.head()
        with progress("verifying the audit chain", recorded.seq) as advance:
            async with aclosing(trail.links()) as links:
                return await verify_trail(links, recorded, advance)
