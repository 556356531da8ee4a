"""Who may do what: four roles, each a set of permissions."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    PREPARER = "preparer"
    APPROVER = "approver"
    ADMIN = "admin"


class Permission(StrEnum):
    REVIEW = "review"
    """Read the stream, totals, trails, holds and dead letters; export a view as CSV."""
    SEE_PERSONAL_DATA = "see_personal_data"
    """See members' names in clear (a viewer sees them masked)."""
    PREPARE = "prepare"
    """Gather a programme's payouts of a day into a settlement batch."""
    APPROVE = "approve"
    """Approve a batch someone else prepared, or a payout over 1,000 CNY."""
    SETTLE = "settle"
    """Export an approved batch for the bank, import its confirmation, send failures back."""
    PLAN = "plan"
    """Replay the recorded events under another catalogue (what if)."""


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.REVIEW}),
    Role.PREPARER: frozenset({Permission.REVIEW, Permission.SEE_PERSONAL_DATA,
                              Permission.PREPARE, Permission.SETTLE}),
    Role.APPROVER: frozenset({Permission.REVIEW, Permission.SEE_PERSONAL_DATA,
                              Permission.APPROVE, Permission.SETTLE}),
    Role.ADMIN: frozenset(Permission),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]


def covers(role: Role, narrower: Role) -> bool:
    """Whether `role` may do everything `narrower` may (an API token's role, at most its
    user's)."""
    return GRANTS[narrower] <= GRANTS[role]
