"""Administration: workflow versions and a unit's overrides, the unit's officials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep

from .. import administration
from ..domain import Official, OfficialRole, WorkflowVersion
from .errors import answering
from .identity import OfficialDep

router = APIRouter(tags=["administration"])


class WorkflowIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    steps: list[dict[str, Any]] = Field(description="The steps; checked against the rules every template keeps.")


class OfficialIn(BaseModel):
    name: str = Field(min_length=2, max_length=120)
    unit: str = Field(min_length=2, max_length=40)
    roles: list[OfficialRole] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    active: bool = True


def shown(version: WorkflowVersion) -> dict[str, Any]:
    return version.model_dump(exclude={"id"})


def listed(official: Official) -> dict[str, Any]:
    return official.model_dump()


@router.get("/workflows/{template}")
async def workflow_versions(
    template: str, who: OfficialDep, runtime: RuntimeDep, unit: str | None = None
) -> dict[str, Any]:
    """Every version of a template: province-wide and the unit's overrides."""
    with answering():
        found = await administration.versions(runtime, template, unit or who.unit)
    return {"template": template, "versions": [shown(version) for version in found]}


@router.put("/workflows/{template}/units/{unit}", status_code=201)
async def override_workflow(
    template: str, unit: str, body: WorkflowIn, who: OfficialDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """A unit's own version of a template: new dossiers use it, dossiers in flight keep theirs."""
    with answering():
        version = await administration.override_workflow(runtime, who, template, unit, body.name, body.steps)
    return shown(version)


@router.get("/officials")
async def officials(who: OfficialDep, runtime: RuntimeDep, unit: str | None = None) -> dict[str, Any]:
    """A unit's officials with their current workload (`open` dossiers held)."""
    with answering():
        found = await administration.officials_of(runtime, who, unit or who.unit)
    return {"officials": [listed(official) for official in found]}


@router.put("/officials/{official_id}")
async def put_official(official_id: str, body: OfficialIn, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Add or change an official (roles, fields, areas, active); the workload count is kept."""
    with answering():
        official = await administration.put_official(runtime, who, official_id, body.model_dump())
    return listed(official)
