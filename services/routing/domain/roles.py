"""Who may give an official which roles (phân quyền), and when a second administrator must confirm.

Four eyes: a change of an official's record that gives the leader or administrator role
in a unit (a new role, a move to another unit, a reactivation) is asked for by one
administrator and takes effect only once a different administrator confirms it. Lesser
roles take effect at once. No one gives a role to themself, whatever the role.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import Conflict, Forbidden
from .officials import ADMIN, LEADER, Official

FOUR_EYES_ROLES = frozenset({LEADER, ADMIN})
"""Roles that need a second administrator's confirmation."""
ROLE_CHANGE_OPEN_FOR = timedelta(days=7)
"""A change not confirmed within this time lapses: it must be asked for again."""


def powers(official: Official | None) -> set[tuple[str, str]]:
    """The (unit, role) pairs an official acts with now: none when absent or inactive."""
    if official is None or not official.active:
        return set()
    return {(official.unit, role) for role in official.roles}


def granted(before: Official | None, after: Official) -> set[tuple[str, str]]:
    """What a change of record gives: roles the official did not hold in that unit before."""
    return powers(after) - powers(before)


def needs_second_administrator(who: Official, before: Official | None, after: Official) -> bool:
    """Whether the change must wait for another administrator; Forbidden if `who` gives themself a role."""
    gives = granted(before, after)
    if gives and who.id == after.id:
        raise Forbidden("no one grants roles to themself: another administrator must do it")
    return any(role in FOUR_EYES_ROLES for _, role in gives)


def standing(official: Official | None) -> dict[str, Any] | None:
    """An official's unit, roles and whether active: what the audit log keeps before and after a change."""
    if official is None:
        return None
    return {"unit": official.unit, "roles": list(official.roles), "active": official.active}


class RoleChange(BaseModel):
    """A change of an official's record that gives the leader or administrator role, asked for
    by one administrator and waiting for another one's confirmation."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id")
    official: str = Field(description="The official whose record changes.")
    before: Official | None = Field(description="Their record when the change was asked for (none if new).")
    after: Official = Field(description="Their record once confirmed (the workload is kept as it is then).")
    units: list[str] = Field(description="The units it concerns: their administrators see and confirm it.")
    requested_by: str
    requested_at: datetime
    status: Literal["pending", "confirmed", "cancelled"] = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None

    @classmethod
    def ask(cls, change_id: str, who: Official, before: Official | None, after: Official, now: datetime) -> RoleChange:
        units = list(dict.fromkeys([after.unit, *([before.unit] if before else [])]))
        return cls(
            _id=change_id,
            official=after.id,
            before=before,
            after=after,
            units=units,
            requested_by=who.id,
            requested_at=now,
        )

    @property
    def expires_at(self) -> datetime:
        return self.requested_at + ROLE_CHANGE_OPEN_FOR

    def confirm(self, who: Official, current: Official | None, now: datetime) -> Official:
        """A second administrator confirms: the official's record as it now becomes."""
        self._open(now)
        if who.id == self.requested_by:
            raise Forbidden(f"role change {self.id} was asked for by you: a second administrator must confirm it")
        if who.id == self.official:
            raise Forbidden("no one grants roles to themself: another administrator must confirm it")
        if standing(current) != standing(self.before):
            raise Conflict(f"{self.official}'s record changed since role change {self.id} was asked for: ask again")
        self.status, self.decided_by, self.decided_at = "confirmed", who.id, now
        return self.after.model_copy(update={"open": current.open if current else 0})

    def cancel(self, who: Official, now: datetime) -> None:
        """The administrator who asked, or another one, drops the change."""
        self._open(now)
        self.status, self.decided_by, self.decided_at = "cancelled", who.id, now

    def _open(self, now: datetime) -> None:
        if self.status != "pending":
            raise Conflict(f"role change {self.id} is {self.status} already")
        if now >= self.expires_at:
            raise Conflict(f"role change {self.id} lapsed unconfirmed on {self.expires_at:%Y-%m-%d}: ask again")
