"""Deadlines (thời hạn giải quyết): step budgets, warnings and the early / on time / late rule.

Pure functions of explicit moments: the deadline watcher and the tests pass `now`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from motcua_contracts.events import Outcome

from services.runtime.calendar import WorkCalendar
from services.runtime.clock import LOCAL_TZ

AlarmKind = Literal["due_soon", "overdue", "step_overdue"]
MIN_BUDGET_HOURS = 1.0
"""A dossier due within the hour still gives each step a share of one office hour."""
APOLOGY_HORIZON = timedelta(days=60)
"""How far past the due date an apology may move the return date (calendar days), unless set otherwise."""


def step_due(
    calendar: WorkCalendar, received_at: datetime, due_at: datetime, start: datetime, share: float
) -> datetime:
    """When a step started at `start` must end: its share of the dossier's office hours."""
    budget = max(calendar.working_hours_between(received_at, due_at), MIN_BUDGET_HOURS) * share
    return calendar.add_working_hours(start, budget)


@dataclass(frozen=True)
class Alarm:
    kind: AlarmKind
    at: datetime


def pending_alarms(
    deadline: datetime, step_due_at: datetime | None, sent: Mapping[str, datetime], calendar: WorkCalendar
) -> list[Alarm]:
    """Warnings still to give for a dossier whose clock runs: due soon (one working day
    before `deadline`), overdue, step overdue. Each is keyed by its date in `sent`, so a
    moved date (supplement, apology, next step) re-arms it."""
    alarms = []
    if sent.get("due_soon") != deadline:
        alarms.append(Alarm("due_soon", calendar.working_day_before(deadline)))
    if sent.get("overdue") != deadline:
        alarms.append(Alarm("overdue", deadline))
    if step_due_at and sent.get("step_overdue") != step_due_at:
        alarms.append(Alarm("step_overdue", step_due_at))
    return alarms


def due_alarms(pending: list[Alarm], now: datetime) -> list[Alarm]:
    """The alarms to fire at `now`; "due soon" is dropped once the date itself has passed."""
    due = [alarm for alarm in pending if alarm.at <= now]
    if any(alarm.kind == "overdue" for alarm in due):
        due = [alarm for alarm in due if alarm.kind != "due_soon"]
    return due


def next_alarm(pending: list[Alarm]) -> datetime | None:
    """When the deadline watcher must look at the dossier next."""
    return min((alarm.at for alarm in pending), default=None)


def classify(completed_at: datetime, due_at: datetime) -> Outcome:
    """Early / on time / late (trước hạn, đúng hạn, quá hạn): the finishing date against the appointment date."""
    finished = completed_at.astimezone(LOCAL_TZ).date()
    due = due_at.astimezone(LOCAL_TZ).date()
    if finished < due:
        return "early"
    return "on_time" if finished == due else "late"
