"""Workflow templates (quy trình) as data, and where a dossier goes.

A template is a list of steps, each held by one unit (the receiving commune or the
competent unit), done by one role, ended by one action, with a share of the dossier's
legal processing time as its budget. Each save is a new version; a dossier follows the
version it started with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.runtime.units import Units

Role = Literal["receiving", "specialist", "leader", "admin", "system"]
Action = Literal["forward", "approve", "sign", "return"]
PROVINCE_WIDE = "*"
"""The scope of a province-wide template; a unit's override has the unit's code."""
DEFAULT_TEMPLATE = "commune-standard"
"""The template of a procedure whose catalogue entry names none."""


class Step(BaseModel):
    """One step of a workflow: who holds the dossier, who acts, how it ends, its time budget."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    name: str = Field(min_length=1, max_length=120)
    unit: Literal["receiving", "competent"]
    role: Role
    action: Action
    assign: Literal["pool", "auto", "none"] = Field(
        description="pool: the unit's officials claim it; auto: the least busy official gets it; none: a system step."
    )
    share: float = Field(gt=0, le=1, description="Share of the dossier's processing time this step may take.")


class Workflow(BaseModel):
    """A workflow template's steps, checked against the rules every unit must keep."""

    steps: list[Step] = Field(min_length=3, max_length=20)

    @model_validator(mode="after")
    def keeps_the_rules(self) -> Workflow:
        steps, actions = self.steps, [s.action for s in self.steps]
        if len({s.id for s in steps}) != len(steps):
            raise ValueError("step ids must be unique")
        if actions.count("approve") != 1 or actions.count("sign") != 1 or actions.count("return") != 1:
            raise ValueError("a workflow has exactly one approve, one sign and one return step")
        if actions[-1] != "return" or actions.index("sign") != actions.index("approve") + 1:
            raise ValueError("approve is followed by sign, and the workflow ends with return")
        for step in steps:
            if step.action == "approve" and step.role != "leader":
                raise ValueError("only a leader approves")
            if (step.action == "sign") != (step.role == "system") or (step.role == "system") != (step.assign == "none"):
                raise ValueError("the sign step, and only it, is a system step without assignment")
        if abs(sum(s.share for s in steps) - 1) > 0.001:
            raise ValueError("step shares must add up to 1")
        return self


class WorkflowVersion(BaseModel):
    """One saved version of a template, province-wide (`unit` "*") or a unit's override."""

    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id", description="`template@unit@version`: unique, never changed.")
    template: str
    unit: str
    version: int = Field(ge=1)
    name: str
    steps: list[Step]
    created_at: datetime
    created_by: str

    @staticmethod
    def key(template: str, unit: str, version: int) -> str:
        return f"{template}@{unit}@{version}"


def step_index(steps: Iterable[Step], action: Action) -> int:
    """Where the step ending with `action` is."""
    return next(i for i, step in enumerate(steps) if step.action == action)


class UnresolvedAuthority(ValueError):
    """The catalogue names a competent authority that is no unit of the province."""


def competent_unit(
    level: str | None, authority: str | None, receiving: str, units: Units, authorities: Mapping[str, str]
) -> str:
    """The unit that resolves the dossier (cơ quan có thẩm quyền): the receiving commune for
    commune procedures, otherwise the department named by the catalogue's competent authority."""
    if level in (None, "commune"):
        return receiving
    target = authorities.get(authority or "")
    if target == "receiving":
        return receiving
    if target and units.get(target):
        return target
    if department := units.department_named(authority or ""):
        return department.code
    raise UnresolvedAuthority(f"no unit for competent authority {authority!r} of a {level} procedure")


def route(steps: Iterable[Step], units: Mapping[str, str]) -> list[str]:
    """The units the dossier passes through, in turn, without repeats of the same holder."""
    passes: list[str] = []
    for step in steps:
        unit = units[step.unit]
        if not passes or passes[-1] != unit:
            passes.append(unit)
    return passes
