"""`puhui finance`: serve the review API and page; manage finance staff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from puhui.engine.catalogue import CatalogueError, load_catalogue
from puhui.settings import Connections
from services.finance.domain.credentials import USERNAME, WeakPassword
from services.finance.domain.files import Encoding
from services.finance.domain.roles import Role
from services.finance.service_layer.auth import Authenticator
from services.runtime.errors import TransientFailure


@click.group()
def finance() -> None:
    """Finance review: the payout stream, totals, trails and settlement with the bank."""


@finance.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--catalogue", "catalogue_path", type=click.Path(path_type=Path), default=None,
              help="Programme catalogue file (default: the reference catalogue).")
@click.option("--secure-cookie", is_flag=True,
              help="Send the session cookie over HTTPS only (behind a TLS proxy).")
@click.option("--settlement-encoding", type=click.Choice([e.value for e in Encoding]),
              default=Encoding.UTF8.value, show_default=True,
              envvar="PUHUI_SETTLEMENT_ENCODING",
              help="What the bank's batch system reads: the settlement CSV's encoding.")
def serve(host: str, port: int, catalogue_path: Path | None, secure_cookie: bool,
          settlement_encoding: str) -> None:
    """Serve the API (/api, schema at /api/openapi.json) and the page (/) until Ctrl-C.

    The database is PUHUI_DATABASE_URL (default: the local stack's); pending schema
    migrations are applied on start.
    """
    import uvicorn

    from services.finance.api.app import create_app
    from services.finance.bootstrap import build
    from services.runtime.records import utc_now

    try:
        catalogue = load_catalogue(catalogue_path)
    except CatalogueError as error:
        raise click.ClickException(f"catalogue: {error}") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    database_url = Connections.from_env().database_url
    encoding = Encoding(settlement_encoding)
    app = create_app(lambda: build(database_url, catalogue, utc_now,
                                   settlement_encoding=encoding), secure_cookie)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


@finance.group()
def user() -> None:
    """Finance staff: viewer, preparer, approver, admin."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.password_option(help="The password (asked for when not given; at least 8 characters).")
def add_user(name: str, role: str, password: str) -> None:
    """Create a user, or change an existing one's role and password."""
    if not USERNAME.match(name):
        raise click.BadParameter("2-40 of a-z 0-9 . _ -, starting with a letter or digit",
                                 param_hint="NAME")
    try:
        asyncio.run(_with_auth(lambda auth: auth.add_user(name, Role(role), password)))
    except WeakPassword as error:
        raise click.BadParameter(str(error), param_hint="--password") from None
    click.echo(f"{name}: {role}")


@user.command("list")
def list_users() -> None:
    """Every finance user and their role."""

    async def users(auth: Authenticator) -> None:
        for name, role, created in await auth.store.users():
            click.echo(f"{name}\t{role}\t{created:%Y-%m-%d}")

    asyncio.run(_with_auth(users))


@user.command("remove")
@click.argument("name")
def remove_user(name: str) -> None:
    """Remove a user (their sessions end with them)."""

    async def remove(auth: Authenticator) -> None:
        if not await auth.store.remove(name):
            raise click.ClickException(f"no user {name}")

    asyncio.run(_with_auth(remove))
    click.echo(f"removed {name}")


async def _with_auth(action: Callable[[Authenticator], Awaitable[None]]) -> None:
    from services.finance.adapters.staff import StaffStore
    from services.runtime import db
    from services.runtime.records import utc_now

    try:
        pool = await db.create_pool(Connections.from_env().database_url, attempts=5)
    except TransientFailure as error:
        raise click.ClickException(f"{error}; is the stack up? (`puhui stack up`)") from None
    try:
        await db.migrate(pool)
        await action(Authenticator(StaffStore(pool), utc_now))
    finally:
        await pool.close()
