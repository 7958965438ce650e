"""Officials (cán bộ, công chức) of the province's units: roles, assignment, workloads.

A token says who an official is; these records say their unit and roles, so a
transfer or a new role applies at the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import Forbidden

RECEIVING, SPECIALIST, LEADER, ADMIN = "receiving", "specialist", "leader", "admin"
OfficialRole = Literal["receiving", "specialist", "leader", "admin"]


class Official(BaseModel):
    """An official's record: unit, roles, the fields and areas they handle, their workload."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id")
    name: str | None = None
    unit: str
    roles: list[OfficialRole] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    active: bool = True
    open: int = Field(default=0, ge=0, description="Open dossiers the official holds now.")
    email: str | None = Field(default=None, description="Work e-mail: where notification sends their alerts.")
    phone: str | None = Field(default=None, description="Mobile number: alerts by SMS when e-mail fails or is absent.")

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def signature(self) -> str:
        """How the official signs forms and events: their name."""
        return self.name or self.id


def pick_official(candidates: Iterable[Official], field: str | None, area: str | None) -> str | None:
    """The official to assign: those of the dossier's field first, then of its area,
    then the one with the fewest open dossiers (ties by id, so replicas agree)."""
    pool = [c for c in candidates if c.active]
    for narrower in (lambda c: field in c.fields, lambda c: area in c.areas):
        if matching := [c for c in pool if narrower(c)]:
            pool = matching
    if not pool:
        return None
    return min(pool, key=lambda c: (c.open, c.id)).id


class Team:
    """The officials who may hold a dossier's steps (those of its units), with their workloads.

    Loaded by the service layer for one operation; the dossier hands steps over through
    it, so every change of holder moves the two officials' open counts, and `changed`
    says which records to save.
    """

    def __init__(self, officials: Iterable[Official] = ()) -> None:
        self.members = {official.id: official for official in officials}
        self.changed: set[str] = set()

    def get(self, official_id: str | None) -> Official | None:
        return self.members.get(official_id) if official_id else None

    def candidates(self, unit: str, role: str) -> list[Official]:
        """Active officials of `unit` with `role`, by id."""
        return sorted(
            (o for o in self.members.values() if o.active and o.unit == unit and role in o.roles), key=lambda o: o.id
        )

    def hand_over(self, before: str | None, after: str | None) -> None:
        """The step passes from `before` to `after` (either may be nobody)."""
        if before == after:
            return
        if official := self.get(before):
            official.open = max(0, official.open - 1)
            self.changed.add(official.id)
        if official := self.get(after):
            official.open += 1
            self.changed.add(official.id)

    def saved(self) -> list[Official]:
        """The records whose workload changed."""
        return [self.members[official_id] for official_id in sorted(self.changed)]


def administering(who: Official, unit: str, province: str) -> None:
    """Administrators manage their own unit; the province's administrators manage every unit."""
    if not who.has_role(ADMIN) or who.unit not in (unit, province):
        raise Forbidden(f"only an administrator of unit {unit} manages its workflows and officials")
