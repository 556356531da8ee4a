"""`puhui audit`: check the audit trail from the database, as finance would; keep its anchors.

The commands read the database as the audit service's role (`puhui_audit`), in one read-only
snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import aclosing
from pathlib import Path
from typing import TypeVar

import click

from services.audit.adapters.errors import TrailMissing
from services.audit.adapters.keys import (
    Ed25519Checker,
    KeyFileError,
    generate,
    load_checker,
    public_path,
)
from services.audit.adapters.reader import snapshot
from services.audit.domain.anchor import Anchor, NotAnAnchor
from services.audit.service_layer.anchoring import forged
from services.audit.service_layer.verification import Verdict, Verified, verify_trail
from services.audit.settings import AuditSettings, AuditSettingsError
from services.runtime.config import Connections
from services.runtime.errors import TransientFailure
from services.runtime.progress import progress

T = TypeVar("T")
PUBLIC_KEY_HELP = ("The anchors' public key (default: PUHUI_AUDIT_PUBLIC_KEY, else the public "
                   "half of PUHUI_AUDIT_SIGNING_KEY).")


@click.group()
def audit() -> None:
    """The audit trail: every decision, append-only and hash-chained."""


@audit.command()
@click.option("--against", "anchor_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An anchor file kept by `puhui audit anchor` (may be given again).")
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=PUBLIC_KEY_HELP)
def verify(anchor_files: tuple[Path, ...], public_key: Path | None) -> None:
    """Recompute every hash of the audit chain in seq order.

    Prints the record count and the head hash, or names the first record that does not fit
    the chain and exits 1. With --against, the chain must also pass through each anchor
    (checked against the public key first): a record rewritten and every later link
    re-hashed fits the chain, but not an anchor signed before.
    The database is PUHUI_DATABASE_URL (default: the local stack's).
    """
    anchors = [_read_anchor(path, _checker(public_key)) for path in anchor_files]
    verdict = _run(_verify(_database_url(), anchors))
    click.echo(str(verdict))
    if not isinstance(verdict, Verified):
        raise SystemExit(1)


@audit.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The file to write (default: audit-anchor-SEQ.json here); never overwritten.")
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=PUBLIC_KEY_HELP)
def anchor(out: Path | None, public_key: Path | None) -> None:
    """Keep the newest anchor of the chain as a file, for a finance officer to hold.

    The anchor is the chain's head as the audit service signed it. Its signature is checked
    against the public key and its head against the trail before the file is written; keep
    the file where whoever runs the database cannot reach it, and check the trail against it
    later with `puhui audit verify --against FILE`.
    """
    checker = _checker(public_key)
    found = _run(_newest_anchor(_database_url(), checker))
    path = out or Path(f"audit-anchor-{found.head.seq}.json")
    try:
        with path.open("xb") as kept:
            kept.write(found.to_json(indent=True) + b"\n")
    except OSError as error:
        raise click.ClickException(f"{path}: {error.strerror}") from None
    click.echo(f"anchor of {found}\nkept in {path}")


@audit.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def keygen(path: Path) -> None:
    """Make the anchors' Ed25519 key: PATH (private, mode 0600) and PATH.pub.

    Give PATH to the audit service only (PUHUI_AUDIT_SIGNING_KEY) and PATH.pub to whoever
    checks anchors (PUHUI_AUDIT_PUBLIC_KEY or --public-key); never put either in the database.
    """
    try:
        key_id = generate(path)
    except KeyFileError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"key {key_id}: private {path}, public {public_path(path)}")


def _database_url() -> str:
    return Connections.from_env().service_database_url("audit")


def _checker(given: Path | None) -> Ed25519Checker:
    try:
        settings = AuditSettings.from_env()
        path = given or settings.public_key or settings.signing_key
        if path is None:
            raise click.UsageError("name the anchors' public key: --public-key FILE "
                                   "or PUHUI_AUDIT_PUBLIC_KEY")
        return load_checker(path)
    except (AuditSettingsError, KeyFileError) as error:
        raise click.ClickException(str(error)) from None


def _read_anchor(path: Path, checker: Ed25519Checker) -> Anchor:
    try:
        found = Anchor.from_json(path.read_bytes())
    except (OSError, NotAnAnchor) as error:
        raise click.ClickException(f"{path}: not an anchor: {error}") from None
    problem = forged(found, checker)
    if problem is not None:
        raise click.ClickException(f"{path}: not signed by the anchors' key: {problem}")
    return found


def _run(work: Coroutine[object, object, T]) -> T:
    try:
        return asyncio.run(work)
    except (TransientFailure, TrailMissing) as failure:
        raise click.ClickException(str(failure)) from None


async def _verify(database_url: str, anchors: list[Anchor]) -> Verdict:
    async with snapshot(database_url) as trail:
        recorded = await trail.head()
        with progress("verifying the audit chain", recorded.seq) as advance:
            async with aclosing(trail.links()) as links:
                return await verify_trail(links, recorded, advance, anchors)


async def _newest_anchor(database_url: str, checker: Ed25519Checker) -> Anchor:
    async with snapshot(database_url) as trail:
        found = await trail.newest_anchor(checker.key_id)
        if found is None:
            raise click.ClickException(
                f"no anchor signed by key {checker.key_id} yet: the audit service signs one "
                "every PUHUI_AUDIT_ANCHOR_SECONDS once PUHUI_AUDIT_SIGNING_KEY names its key")
        problem = forged(found, checker)
        if problem is not None:
            raise click.ClickException(f"the newest anchor is not genuine: {problem}")
        if await trail.hash_at(found.head.seq) != found.head.hash:
            raise click.ClickException(
                f"the trail no longer passes through its own newest anchor ({found}): "
                "run `puhui audit verify` and investigate before keeping anything")
        return found
