"""A signed-in member of the finance staff."""

from __future__ import annotations

from dataclasses import dataclass

from services.finance.domain.roles import Permission, Role, may


@dataclass(frozen=True, slots=True)
class Staff:
    username: str
    role: Role
    token_id: str | None = None
    """The API token this request came with (None: a signed-in session)."""

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)

    @property
    def sees_personal_data(self) -> bool:
        return self.may(Permission.SEE_PERSONAL_DATA)

    def __str__(self) -> str:
        """How the audit trail names the actor: `wang.li (approver)`."""
        return f"{self.username} ({self.role})"
