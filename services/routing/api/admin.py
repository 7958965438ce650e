"""Administration: workflow versions and a unit's overrides, the unit's officials and their
roles (the leader and administrator roles with a second administrator's confirmation)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep
from services.runtime.web import answers

from .. import administration, roles
from ..domain import Official, OfficialRole, RoleChange, WorkflowVersion, standing
from .errors import answering
from .identity import OfficialDep
from .render import when

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
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^0[0-9]{9}$")


def shown(version: WorkflowVersion) -> dict[str, Any]:
    return version.model_dump(exclude={"id"})


def listed(official: Official) -> dict[str, Any]:
    return official.model_dump()


def pending(change: RoleChange) -> dict[str, Any]:
    """A role change as administrators read it: who, from which roles to which, asked by whom, until when."""
    return {
        "id": change.id,
        "official": change.official,
        "status": change.status,
        "before": standing(change.before),
        "after": standing(change.after),
        "record": change.after.model_dump(exclude={"open"}),
        "requested_by": change.requested_by,
        "requested_at": when(change.requested_at),
        "expires_at": when(change.expires_at),
        "decided_by": change.decided_by,
        "decided_at": when(change.decided_at),
        "confirm": f"/role-changes/{change.id}/confirmation",
    }


@router.get("/workflows/{template}", responses=answers(404))
async def workflow_versions(
    template: str, who: OfficialDep, runtime: RuntimeDep, unit: str | None = None
) -> dict[str, Any]:
    """Every version of a template: province-wide and the unit's overrides."""
    with answering():
        found = await administration.versions(runtime, template, unit or who.unit)
    return {"template": template, "versions": [shown(version) for version in found]}


@router.put("/workflows/{template}/units/{unit}", status_code=201, responses=answers(404))
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
        found = await roles.officials_of(runtime, who, unit or who.unit)
    return {"officials": [listed(official) for official in found]}


@router.put("/officials/{official_id}", responses={202: {"description": "A role change waits for confirmation."}})
async def put_official(
    official_id: str, body: OfficialIn, who: OfficialDep, runtime: RuntimeDep, response: Response
) -> dict[str, Any]:
    """Add or change an official (roles, fields, areas, active); the workload count is kept.

    Giving the leader or administrator role (a new role, a move to another unit, a
    reactivation) answers 202 with a pending role change that another administrator
    confirms; anything else is saved at once (200). No one gives themself a role (403)."""
    with answering():
        saved = await roles.put_official(runtime, who, official_id, body.model_dump())
    if isinstance(saved, RoleChange):
        response.status_code = 202
        return pending(saved)
    return listed(saved)


@router.get("/role-changes")
async def role_changes(who: OfficialDep, runtime: RuntimeDep, unit: str | None = None) -> dict[str, Any]:
    """A unit's role changes waiting for a second administrator (to its administrators)."""
    with answering():
        found = await roles.pending_changes(runtime, who, unit or who.unit)
    return {"role_changes": [pending(change) for change in found]}


@router.post("/role-changes/{change_id}/confirmation", responses=answers(404, 409))
async def confirm_role_change(change_id: str, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """A second administrator confirms a role change: the official's record as it now is. Not
    by the administrator who asked for it, nor by the official it concerns (403)."""
    with answering():
        official = await roles.confirm(runtime, who, change_id)
    return listed(official)


@router.post("/role-changes/{change_id}/cancellation", responses=answers(404, 409))
async def cancel_role_change(change_id: str, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Drop a pending role change (the administrator who asked, or another one)."""
    with answering():
        change = await roles.cancel(runtime, who, change_id)
    return pending(change)
