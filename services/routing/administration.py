"""Administrators' work (service layer): a unit's workflow versions; who administers a unit.

Administrators manage their own unit, the province's administrators every unit; every
change and every refused attempt goes into the audit log, filed under the unit concerned.
Officials and their roles are in roles.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.runtime import Runtime

from .context import RoutingContext
from .domain import PROVINCE_WIDE, Forbidden, Invalid, NotFound, Official, Workflow, WorkflowVersion, administering
from .store import audit, workflows


async def guard(runtime: Runtime[RoutingContext], who: Official, action: str, unit: str) -> None:
    """Forbidden (and audited) unless `who` administers `unit`."""
    try:
        administering(who, unit, runtime.context.units.province.code)
    except Forbidden as refused:
        line = audit.entry(who, action, None, refused.outcome, f"{refused} (unit {unit})", filed_under=[unit])
        await audit.record(runtime.documents, line)
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
        line = audit.entry(who, "override_workflow", None, refused.outcome, problems, filed_under=[unit])
        await audit.record(runtime.documents, line)
        raise refused from None
    version = await workflows.save_version(runtime.documents, template, unit, name, checked.steps, who.id)
    runtime.context.workflows.forget()  # this replica uses it at once; the others within seconds
    detail = f"{template} v{version.version} for {unit}"
    await audit.record(
        runtime.documents, audit.entry(who, "override_workflow", None, "allowed", detail, filed_under=[unit])
    )
    return version


async def versions(runtime: Runtime[RoutingContext], template: str, unit: str) -> list[WorkflowVersion]:
    """Every version of a template a unit may follow."""
    found = await workflows.versions(runtime.documents, template, unit)
    if not found:
        raise NotFound(f"no workflow template {template!r}")
    return found
