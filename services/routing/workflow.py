"""The workflow engine: moves a dossier through the steps of its pinned workflow version.

Every change happens inside the caller's transaction (`Tx`): the dossier's state, the
officials' workloads and the events it emits commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from motcua_contracts import (
    DossierApproved,
    DossierAssigned,
    DossierCompleted,
    DossierRefused,
    DossierStepStarted,
    DossierTransferred,
)

from services.runtime import Tx
from services.runtime.calendar import WorkCalendar
from services.runtime.units import Units

from . import domain, store


@dataclass
class Reference:
    """What routing reads at start: units, the authority map, the calendar, workflow versions."""

    units: Units | None = None
    authorities: dict[str, str] = field(default_factory=dict)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    workflows: store.WorkflowCache = field(default_factory=store.WorkflowCache)

    def unit_name(self, code: str) -> str:
        unit = self.units.get(code) if self.units else None
        return unit.name if unit else code


reference = Reference()


def current_step(dossier: dict[str, Any]) -> dict[str, Any] | None:
    flow, index = dossier.get("flow"), dossier.get("step")
    return flow["steps"][index] if flow and index is not None else None


def settle(dossier: dict[str, Any]) -> None:
    """Status from the facts known, then when the deadline sweeper must look next."""
    if not domain.decided(dossier):
        if dossier.get("waiting_for_supplement"):
            dossier["status"] = domain.WAITING_FOR_SUPPLEMENT
        elif dossier.get("payment_requested") and not dossier.get("fee_settled"):
            dossier["status"] = domain.WAITING_FOR_PAYMENT
        else:
            dossier["status"] = domain.PROCESSING if dossier.get("received") else domain.RECEIVED
    if "due_at" in dossier:
        dossier["deadline_at"] = domain.deadline(dossier)
    dossier["alarm_at"] = domain.alarm_at(dossier, reference.calendar)


async def start(tx: Tx, dossier: dict[str, Any], now: datetime) -> None:
    """Resolve the competent unit, pin the latest workflow version, enter the first step."""
    assert reference.units is not None
    competent = domain.competent_unit(
        dossier.get("level"),
        dossier.get("competent_authority"),
        dossier["commune"],
        reference.units,
        reference.authorities,
    )
    template = dossier.get("workflow") or "commune-standard"
    workflow = await reference.workflows.get(tx, template, competent)
    if workflow is None:
        raise ValueError(f"no workflow template {template!r}")
    units = {"receiving": dossier["commune"], "competent": competent}
    dossier |= {
        "units": units,
        "flow": {
            "template": template,
            "scope": workflow["unit"],
            "version": workflow["version"],
            "steps": workflow["steps"],
        },
        "route": domain.route(workflow["steps"], units),
    }
    await enter(tx, dossier, 0, now)


async def enter(tx: Tx, dossier: dict[str, Any], index: int, now: datetime, holder: str | None = None) -> None:
    """Put the dossier into step `index`: transfer between units, assignment, step deadline."""
    step = dossier["flow"]["steps"][index]
    unit = dossier["units"][step["unit"]]
    previous_unit = dossier.get("holder_unit")
    await store.count_open(tx, dossier.get("holder"), -1)
    if previous_unit is not None and previous_unit != unit:
        tx.emit(
            DossierTransferred(
                dossier_code=dossier["_id"], from_unit=previous_unit, to_unit=unit, step=step["id"], transferred_at=now
            ),
            commune=dossier["commune"],
        )
    if holder is None and step["assign"] == "auto":
        holder = domain.pick_official(
            await store.candidates(tx, unit, step["role"]), dossier.get("field"), dossier.get("area")
        )
    await store.count_open(tx, holder, +1)
    step_due_at = domain.step_due(
        reference.calendar, dossier["received_at"], dossier["due_at"], now, step["share"]
    ).replace(microsecond=0)
    dossier |= {
        "step": index,
        "holder_unit": unit,
        "holder": holder,
        "step_started_at": now,
        "step_due_at": step_due_at,
    }
    if step["action"] == "sign":
        dossier["status"] = domain.SIGNING
    elif step["action"] == "return":
        dossier["status"] = domain.RESOLVED
    settle(dossier)
    tx.emit(
        DossierStepStarted(
            dossier_code=dossier["_id"],
            workflow=dossier["flow"]["template"],
            workflow_version=dossier["flow"]["version"],
            step=step["id"],
            step_name=step["name"],
            unit=unit,
            role=step["role"],
            holder=holder,
            started_at=now,
            step_due_at=step_due_at,
        ),
        commune=dossier["commune"],
    )


async def assign(tx: Tx, dossier: dict[str, Any], holder: str, by: str, now: datetime) -> None:
    """Give the current step to `holder` (a claim, or a leader's reassignment)."""
    await store.count_open(tx, dossier.get("holder"), -1)
    await store.count_open(tx, holder, +1)
    dossier["holder"] = holder
    step = current_step(dossier)
    assert step is not None
    tx.emit(
        DossierAssigned(
            dossier_code=dossier["_id"],
            step=step["id"],
            unit=dossier["holder_unit"],
            holder=holder,
            assigned_by=by,
            assigned_at=now,
        ),
        commune=dossier["commune"],
    )


async def forward(tx: Tx, dossier: dict[str, Any], now: datetime, to: str | None = None) -> None:
    await enter(tx, dossier, dossier["step"] + 1, now, holder=to)


async def approve(tx: Tx, dossier: dict[str, Any], by: str, now: datetime, title: str | None = None) -> None:
    """The leader's approval: the result goes to signing (the next step)."""
    dossier["approved_at"] = now
    dossier["status"] = domain.SIGNING  # decided from here on
    tx.emit(
        DossierApproved(
            dossier_code=dossier["_id"],
            competent_unit=dossier.get("units", {}).get("competent", dossier["commune"]),
            approved_by=by,
            result_title=title or f"Kết quả giải quyết: {dossier['procedure_name']}",
        ),
        commune=dossier["commune"],
    )
    if dossier.get("flow"):
        await enter(tx, dossier, domain.step_index(dossier["flow"]["steps"], "sign"), now)
    else:
        settle(dossier)


async def close(tx: Tx, dossier: dict[str, Any], status: str, now: datetime) -> None:
    """End processing: release the holder, stop the deadline alarms."""
    await store.count_open(tx, dossier.get("holder"), -1)
    dossier |= {"status": status, "closed_at": now, "holder": None}
    settle(dossier)


async def complete(tx: Tx, dossier: dict[str, Any], now: datetime) -> None:
    """The result is returned: early / on time / late against the legal due date."""
    outcome = domain.classify(now, dossier["due_at"])
    dossier |= {"completed_at": now, "outcome": outcome}
    await close(tx, dossier, domain.DONE, now)
    tx.emit(
        DossierCompleted(
            dossier_code=dossier["_id"],
            result_code=dossier["result_code"],
            completed_at=now,
            due_at=dossier["due_at"],
            outcome=outcome,
            apologised=bool(dossier.get("apology")),
        ),
        commune=dossier["commune"],
    )


async def refuse(tx: Tx, dossier: dict[str, Any], reason: str, by: str, now: datetime) -> None:
    unit = dossier.get("holder_unit") or dossier["commune"]
    dossier["refusal"] = {"reason": reason, "by": by, "at": now, "unit": unit}
    await close(tx, dossier, domain.REFUSED, now)
    tx.emit(
        DossierRefused(dossier_code=dossier["_id"], reason=reason, refused_by=by, unit=unit, refused_at=now),
        commune=dossier["commune"],
    )
