"""Routing rules (luân chuyển, xử lý): workflows, competent units, assignment, deadlines.

Pure functions over plain data; no I/O. A workflow template is a list of steps, each
held by one unit (the receiving commune or the competent unit), done by one role,
ended by one action, with a share of the dossier's legal processing time as its budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from motcua_contracts.events import Outcome
from pydantic import BaseModel, Field, model_validator

from services.runtime.calendar import WorkCalendar
from services.runtime.clock import LOCAL_TZ
from services.runtime.units import Units

# Dossier statuses, as synced to the national portal.
RECEIVED = "received"
WAITING_FOR_PAYMENT = "waiting_for_payment"
PROCESSING = "processing"
SIGNING = "signing"
RESOLVED = "resolved"  # signed result waiting to be returned (đã giải quyết, chờ trả)
DONE = "result_returned"
WAITING_FOR_SUPPLEMENT = "waiting_for_supplement"
WITHDRAWN = "withdrawn"
REFUSED = "refused"
CLOSED = (DONE, WITHDRAWN, REFUSED)

# Officials' roles.
RECEIVING, SPECIALIST, LEADER, ADMIN = "receiving", "specialist", "leader", "admin"
ROLES = (RECEIVING, SPECIALIST, LEADER, ADMIN)
Role = Literal["receiving", "specialist", "leader", "admin", "system"]
Action = Literal["forward", "approve", "sign", "return"]


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
            if step.action == "approve" and step.role != LEADER:
                raise ValueError("only a leader approves")
            if (step.action == "sign") != (step.role == "system") or (step.role == "system") != (step.assign == "none"):
                raise ValueError("the sign step, and only it, is a system step without assignment")
        if abs(sum(s.share for s in steps) - 1) > 0.001:
            raise ValueError("step shares must add up to 1")
        return self


def step_index(steps: list[dict[str, Any]], action: Action) -> int:
    return next(i for i, step in enumerate(steps) if step["action"] == action)


# --- competent authority ------------------------------------------------------------


class UnresolvedAuthority(ValueError):
    pass


def competent_unit(
    level: str | None, authority: str | None, receiving: str, units: Units, authorities: Mapping[str, str]
) -> str:
    """The unit that resolves the dossier: the receiving commune for commune procedures,
    otherwise the department named by the catalogue's competent authority."""
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


def route(steps: list[dict[str, Any]], units: Mapping[str, str]) -> list[str]:
    """The units the dossier passes through, in turn, without repeats of the same holder."""
    passes: list[str] = []
    for step in steps:
        unit = units[step["unit"]]
        if not passes or passes[-1] != unit:
            passes.append(unit)
    return passes


# --- assignment ------------------------------------------------------------------------


def pick_official(candidates: Iterable[Mapping[str, Any]], field: str | None, area: str | None) -> str | None:
    """The official to assign: those of the dossier's field first, then of its area,
    then the one with the fewest open dossiers (ties by id, so replicas agree)."""
    pool = [c for c in candidates if c.get("active", True)]
    for narrower in (lambda c: field in c.get("fields", ()), lambda c: area in c.get("areas", ())):
        if matching := [c for c in pool if narrower(c)]:
            pool = matching
    if not pool:
        return None
    return min(pool, key=lambda c: (c.get("open", 0), c["_id"]))["_id"]


# --- deadlines ---------------------------------------------------------------------------


def step_due(
    calendar: WorkCalendar, received_at: datetime, due_at: datetime, start: datetime, share: float
) -> datetime:
    """When a step started at `start` must end: its share of the dossier's office hours."""
    budget = max(calendar.working_hours_between(received_at, due_at), 1.0) * share
    return calendar.add_working_hours(start, budget)


def deadline(dossier: Mapping[str, Any]) -> datetime:
    """The date the citizen was promised: the new date of an apology, else the due date."""
    return (dossier.get("apology") or {}).get("new_due_at") or dossier["due_at"]


@dataclass(frozen=True)
class Alarm:
    kind: Literal["due_soon", "overdue", "step_overdue"]
    at: datetime


def pending_alarms(dossier: Mapping[str, Any], calendar: WorkCalendar) -> list[Alarm]:
    """Warnings still to give: due soon (one working day before), overdue, step overdue.

    None while the clock is paused for a supplement or once the dossier is closed; a
    moved date (supplement, apology) re-arms them because each is keyed by its date.
    """
    if dossier.get("status") in (*CLOSED, WAITING_FOR_SUPPLEMENT) or "due_at" not in dossier:
        return []
    sent = dossier.get("alarms", {})
    alarms = []
    due = deadline(dossier)
    if sent.get("due_soon") != due:
        alarms.append(Alarm("due_soon", calendar.working_day_before(due)))
    if sent.get("overdue") != due:
        alarms.append(Alarm("overdue", due))
    step_due_at = dossier.get("step_due_at")
    if step_due_at and sent.get("step_overdue") != step_due_at:
        alarms.append(Alarm("step_overdue", step_due_at))
    return alarms


def alarm_at(dossier: Mapping[str, Any], calendar: WorkCalendar) -> datetime | None:
    """When the deadline sweeper must look at the dossier next (stored and indexed)."""
    return min((alarm.at for alarm in pending_alarms(dossier, calendar)), default=None)


def due_alarms(dossier: Mapping[str, Any], calendar: WorkCalendar, now: datetime) -> list[Alarm]:
    """The alarms to fire at `now`; "due soon" is dropped once the date itself has passed."""
    due = [alarm for alarm in pending_alarms(dossier, calendar) if alarm.at <= now]
    if any(alarm.kind == "overdue" for alarm in due):
        due = [alarm for alarm in due if alarm.kind != "due_soon"]
    return due


# --- completion -------------------------------------------------------------------------


def classify(completed_at: datetime, due_at: datetime) -> Outcome:
    """Early / on time / late: the finishing date against the appointment date."""
    finished = completed_at.astimezone(LOCAL_TZ).date()
    due = due_at.astimezone(LOCAL_TZ).date()
    if finished < due:
        return "early"
    return "on_time" if finished == due else "late"


# --- what a dossier waits for --------------------------------------------------------------


def waiting_for(dossier: Mapping[str, Any]) -> list[str]:
    """Why a dossier cannot be approved yet: other services' outcomes still to arrive."""
    reasons = []
    if dossier.get("waiting_for_supplement"):
        reasons.append("supplement")
    if not dossier.get("digitised"):
        reasons.append("digitisation")
    if not dossier.get("fee_settled"):
        reasons.append("payment")
    if dossier.get("status") == SIGNING:
        reasons.append("signature")
    return reasons


def ready_for_decision(dossier: Mapping[str, Any]) -> bool:
    """Received, digitised, fee settled, and not sent back for a supplement."""
    return bool(dossier.get("received")) and not set(waiting_for(dossier)) & {"supplement", "digitisation", "payment"}


def decided(dossier: Mapping[str, Any]) -> bool:
    return dossier.get("status") in (SIGNING, RESOLVED, *CLOSED)
