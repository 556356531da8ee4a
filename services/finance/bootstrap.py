"""Build finance once per process: one pool, the stores, the catalogue, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import asyncpg

from engine.catalogue import DEFAULT_CATALOGUE, Catalogue
from services.finance.adapters.preferences import Preferences
from services.finance.adapters.settlement import SettlementStore
from services.finance.adapters.staff import StaffStore
from services.finance.adapters.views import Views
from services.finance.domain.files import Encoding
from services.finance.service_layer.auth import Authenticator
from services.finance.service_layer.settlement import Settlement
from services.finance.service_layer.whatif import Replayer, WhatIfRuns
from services.runtime import db
from services.runtime.config import Connections


@dataclass(frozen=True)
class Finance:
    """Everything the API needs, built once."""

    pool: asyncpg.Pool
    catalogue: Catalogue
    views: Views
    auth: Authenticator
    settlement: Settlement
    now: Callable[[], datetime]
    preferences: Preferences
    settlement_encoding: Encoding = Encoding.UTF8
    """What the bank's batch system reads (`puhui finance serve --settlement-encoding`)."""
    whatif: WhatIfRuns | None = None
    """What-if runs (None: this process starts none)."""


async def build(database_url: str, catalogue: Catalogue, now: Callable[[], datetime],
                settlement_encoding: Encoding = Encoding.UTF8,
                catalogue_text: str | None = None) -> Finance:
    """Over `database_url`, which `puhui finance` signs in as the role `puhui_finance`;
    raises `db.DatabaseNotReady` when the owner has not migrated the database yet.
    `catalogue_text` is `catalogue` as written (the reference catalogue's if not given): what
    what-if runs start from; they replay from the broker at PUHUI_KAFKA_BOOTSTRAP."""
    pool = await db.create_pool(database_url, min_size=1, max_size=8)
    try:
        await db.require_current(pool)
    except BaseException:
        await pool.close()
        raise
    in_force = catalogue_text if catalogue_text is not None else \
        resources.files("engine").joinpath(DEFAULT_CATALOGUE).read_text("utf-8")
    replayer = Replayer(Connections.from_env().kafka_bootstrap, database_url, in_force)
    return Finance(pool, catalogue, Views(pool), Authenticator(StaffStore(pool), now),
                   Settlement(SettlementStore(pool), now), now, Preferences(pool),
                   settlement_encoding, WhatIfRuns(replayer, now))
