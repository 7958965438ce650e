"""Administrators' work (service layer): a unit's workflow versions and its officials.

Administrators manage their own unit, the province's administrators every unit; every
change and every refused attempt goes into the audit log.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.runtime import Runtime, Tx

from .context import RoutingContext
from .domain import PROVINCE_WIDE, Forbidden, Invalid, NotFound, Official, Workflow, WorkflowVersion, administering
from .store import audit, officials, workflows


async def guard(runtime: Runtime[RoutingContext], who: Official, action: str, unit: str) -> None:
    """Forbidden (and audited) unless `who` administers `unit`."""
    try:
        administering(who, unit, runtime.context.units.province.code)
    except Forbidden as refused:
        await audit.record(
            runtime.documents, audit.entry(who, action, None, refused.outcome, f"{refused} (unit {unit})")
        )
        raise


async def override_workflow(
    runtime: Runtime[RoutingContext], who: Official, template: str, unit: str, name: str, steps: list[dict[str, Any]]
) -> WorkflowVersion:
    """Save a unit's own version of a template: new dossiers use it, dossiers in flight keep theirs."""
    await guard(runtime, who, "override_workflow", unit)
    if runtime.context.units.get(unit) is None:
        raise NotFound(f"no unit {unit!r}")
    if await workflows.newest(runtime.documents, template, PROVINCE_WIDE) is None:
        raise NotFound(f"no workflow template {template!r}")
    try:
        checked = Workflow.model_validate({"steps": steps})
    except ValidationError as error:
        refused = Invalid("the workflow breaks the rules", error.errors(include_url=False, include_context=False))
        problems = "; ".join(e["msg"] for e in refused.detail)
        await audit.record(runtime.documents, audit.entry(who, "override_workflow", None, refused.outcome, problems))
        raise refused from None
    version = await workflows.save_version(runtime.documents, template, unit, name, checked.steps, who.id)
    runtime.context.workflows.forget()  # this replica uses it at once; the others within seconds
    detail = f"{template} v{version.version} for {unit}"
    await audit.record(runtime.documents, audit.entry(who, "override_workflow", None, "allowed", detail))
    return version


async def versions(runtime: Runtime[RoutingContext], template: str, unit: str) -> list[WorkflowVersion]:
    """Every version of a template a unit may follow."""
    found = await workflows.versions(runtime.documents, template, unit)
    if not found:
        raise NotFound(f"no workflow template {template!r}")
    return found


async def officials_of(runtime: Runtime[RoutingContext], who: Official, unit: str) -> list[Official]:
    """A unit's officials with their workloads: one's own unit, or a unit one administers."""
    if unit != who.unit:
        await guard(runtime, who, "list_officials", unit)
    return await officials.of_unit(runtime.documents, unit)


async def put_official(
    runtime: Runtime[RoutingContext], who: Official, official_id: str, record: dict[str, Any]
) -> Official:
    """Add or change an official (unit, roles, fields, areas, active); the workload count is kept."""
    await guard(runtime, who, "put_official", record["unit"])
    existing = await officials.get(runtime.documents, official_id)
    if existing is not None and existing.unit != record["unit"]:
        await guard(runtime, who, "put_official", existing.unit)  # moving them out needs their old unit's admin too

    async def work(tx: Tx) -> Official:
        current = await officials.load(tx, official_id)
        official = Official.model_validate({**record, "_id": official_id, "open": current.open if current else 0})
        officials.save(tx, official)
        detail = f"{official_id} in {official.unit}"
        audit.add(tx, audit.entry(who, "put_official", None, "allowed", detail))
        return official

    official = await runtime.transact(work)
    runtime.context.rosters.forget()  # this replica assigns to them at once; the others within seconds
    return official
