"""`puhui finance`: serve the review API and page; manage finance staff."""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from engine.catalogue import CatalogueError, load_catalogue
from services.finance.domain.credentials import USERNAME, WeakPassword
from services.finance.domain.files import Encoding
from services.finance.domain.roles import Role
from services.finance.service_layer.auth import TOKEN_DAYS, Authenticator, RoleNotCovered
from services.runtime.config import Connections
from services.runtime.errors import TransientFailure

HEADER_BUFFER = 2 * 1024 * 1024


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
@click.option("--origin", default=None, metavar="URL",
              help="The page's origin as browsers see it (https://finance.example.org); "
                   "a change sent from any other origin is refused. Default: the Host header.")
@click.option("--settlement-encoding", type=click.Choice([e.value for e in Encoding]),
              default=Encoding.UTF8.value, show_default=True,
              envvar="PUHUI_SETTLEMENT_ENCODING",
              help="What the bank's batch system reads: the settlement CSV's encoding.")
def serve(host: str, port: int, catalogue_path: Path | None, secure_cookie: bool,
          origin: str | None, settlement_encoding: str) -> None:
    """Serve the API (/api, schema at /api/openapi.json) and the page (/) until Ctrl-C.

    The database is PUHUI_DATABASE_URL (default: the local stack's), signed in as the role
    `puhui_finance`; its schema must be migrated first (`puhui db migrate`).
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
    database_url = Connections.from_env().service_database_url("finance")
    encoding = Encoding(settlement_encoding)
    text = catalogue_path.read_text("utf-8") if catalogue_path else None
    app = create_app(lambda: build(database_url, catalogue, utc_now,
                                   settlement_encoding=encoding, catalogue_text=text),
                     secure_cookie,
                     origin.rstrip("/") if origin else None)
    # h11 drops a request whose headers pass its buffer (16 KiB) mid-upload, which the client
    # sees as a reset: read up to 2 MiB of them, so that the app answers 431 past 16 KiB
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, http="h11",
                h11_max_incomplete_event_size=HEADER_BUFFER)


@finance.group()
def user() -> None:
    """Finance staff: viewer, preparer, approver, admin."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def add_user(name: str, role: str) -> None:
    """Create a user, or change an existing one's role and password (which ends their
    sessions). The password is asked for, or read as one line from standard input: never
    from the command line, where other users and the shell's history would see it."""
    if not USERNAME.match(name):
        raise click.BadParameter("2-40 of a-z 0-9 . _ -, starting with a letter or digit",
                                 param_hint="NAME")
    password = _read_password()

    async def add(auth: Authenticator) -> None:
        await auth.add_user(name, Role(role), password)

    try:
        asyncio.run(_with_auth(add))
    except WeakPassword as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{name}: {role}", err=True)


def _read_password() -> str:
    stdin = click.get_text_stream("stdin")
    if stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return stdin.readline().rstrip("\r\n")


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


@finance.group()
def token() -> None:
    """API tokens for scripts (Authorization: Bearer), each acting as one user."""


@token.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="A narrower role than the user's own (default: the user's).")
@click.option("--days", type=click.IntRange(1, 366), default=TOKEN_DAYS, show_default=True,
              help="Days until the token expires.")
def add_token(name: str, role: str | None, days: int) -> None:
    """Make an API token of user NAME; it is printed once (only its hash is kept)."""

    async def add(auth: Authenticator) -> None:
        try:
            token_id, text = await auth.add_token(name, Role(role) if role else None, days,
                                                  _operator())
        except (LookupError, RoleNotCovered) as error:
            raise click.ClickException(str(error.args[0])) from None
        click.echo(f"{token_id}: send 'Authorization: Bearer <token>'", err=True)
        click.echo(text)

    asyncio.run(_with_auth(add))


@token.command("list")
def list_tokens() -> None:
    """Every API token: its id, user, role, when made and when it expires."""

    async def tokens(auth: Authenticator) -> None:
        for token_id, name, role, created, expires in await auth.store.tokens():
            click.echo(f"{token_id}\t{name}\t{role}\t{created:%Y-%m-%d}\t{expires:%Y-%m-%d}")

    asyncio.run(_with_auth(tokens))


@token.command("revoke")
@click.argument("token_id")
def revoke_token(token_id: str) -> None:
    """Revoke an API token by its id (audited)."""

    async def revoke(auth: Authenticator) -> None:
        if not await auth.revoke_token(token_id, _operator()):
            raise click.ClickException(f"no token {token_id}")

    asyncio.run(_with_auth(revoke))
    click.echo(f"revoked {token_id}", err=True)


def _operator() -> str:
    """Who ran the command, as the audit trail names them."""
    return f"{getpass.getuser()} (command line)"


async def _with_auth(action: Callable[[Authenticator], Awaitable[None]]) -> None:
    from services.finance.adapters.staff import StaffStore
    from services.runtime import db
    from services.runtime.records import utc_now

    try:
        pool = await db.create_pool(Connections.from_env().service_database_url("finance"),
                                    attempts=5)
    except TransientFailure as error:
        raise click.ClickException(f"{error}; is the stack up? (`puhui stack up`)") from None
    try:
        await db.require_current(pool)
        await action(Authenticator(StaffStore(pool), utc_now))
    except db.DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None
    finally:
        await pool.close()
