"""The audit service's own settings: read once from the environment, frozen, failing fast."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

DEFAULT_ANCHOR_SECONDS = 300


class AuditSettingsError(ValueError):
    """A setting the audit service cannot use; names the variable."""


@dataclass(frozen=True)
class AuditSettings:
    signing_key: Path | None = None
    """The Ed25519 private key the service signs anchors with (none: it does not anchor)."""
    public_key: Path | None = None
    """The public key `puhui audit anchor` and `verify --against` check anchors with."""
    anchor_every: timedelta = timedelta(seconds=DEFAULT_ANCHOR_SECONDS)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuditSettings:
        """`PUHUI_AUDIT_SIGNING_KEY`, `PUHUI_AUDIT_PUBLIC_KEY` (paths) and
        `PUHUI_AUDIT_ANCHOR_SECONDS` (0 to 86,400; 0: after every batch)."""
        env = os.environ if env is None else env
        raw = env.get("PUHUI_AUDIT_ANCHOR_SECONDS") or str(DEFAULT_ANCHOR_SECONDS)
        if not raw.isdigit() or int(raw) > 86_400:
            raise AuditSettingsError(
                f"PUHUI_AUDIT_ANCHOR_SECONDS={raw!r} is not a number from 0 to 86400")
        return cls(_path(env, "PUHUI_AUDIT_SIGNING_KEY"), _path(env, "PUHUI_AUDIT_PUBLIC_KEY"),
                   timedelta(seconds=int(raw)))


def _path(env: Mapping[str, str], key: str) -> Path | None:
    value = env.get(key)
    return Path(value) if value else None
