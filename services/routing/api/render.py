"""How a dossier looks to an official over HTTP: times in Vietnam local time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.runtime.clock import local

from ..domain import Dossier


def when(moment: datetime | None) -> str | None:
    return local(moment).isoformat() if moment else None


def dossier_view(dossier: Dossier, now: datetime) -> dict[str, Any]:
    """Status, where it is and who holds it, its step, its dates and what it waits for."""
    step, deadline = dossier.current_step, dossier.deadline
    flow = dossier.flow
    return {
        "dossier_code": dossier.code,
        "procedure_code": dossier.procedure_code,
        "procedure_name": dossier.procedure_name,
        "field": dossier.field,
        "area": dossier.area,
        "status": dossier.status,
        "receiving_unit": dossier.commune,
        "competent_unit": dossier.units.get("competent"),
        "route": dossier.route,
        "holder_unit": dossier.holder_unit,
        "holder": dossier.holder,
        "step": step.id if step else None,
        "step_name": step.name if step else None,
        "step_role": step.role if step else None,
        "step_due_at": when(dossier.step_due_at),
        "workflow": {"template": flow.template, "scope": flow.scope, "version": flow.version} if flow else {},
        "received_at": when(dossier.received_at),
        "due_at": when(dossier.due_at),
        "new_due_at": when(dossier.apology.new_due_at if dossier.apology else None),
        "overdue": bool(deadline and not dossier.closed and deadline < now),
        "waiting_for": [] if dossier.closed else dossier.waiting_for(),
        "outcome": dossier.outcome,
    }
