"""How a dossier moves: intake's and other services' facts, its workflow steps, its alarms.

`DossierProgress` is the part of the aggregate that events drive; officers' actions
are in dossier.py. Workload counts move with the holder through the `Team`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua_contracts import (
    DossierAssigned,
    DossierDueSoon,
    DossierOverdue,
    DossierReceived,
    DossierStepStarted,
    DossierTransferred,
    DossierWithdrawalDeclined,
    DossierWithdrawn,
    Event,
)

from services.runtime.calendar import HOURS_PER_WORKING_DAY, WorkCalendar

from .deadlines import due_alarms, step_due
from .errors import Conflict
from .officials import Team, pick_official
from .record import DossierRecord, Pin, Withdrawal
from .status import DONE, RESOLVED, SIGNING, WHY_DECIDED, WITHDRAWN, Status
from .workflow import WorkflowVersion, route


class DossierProgress(DossierRecord):
    """The dossier as events move it; see `Dossier` for what officials do."""

    # --- what other services tell -----------------------------------------------------------

    def receive(self, event: DossierReceived, applicant_name: str, calendar: WorkCalendar) -> None:
        """Record intake's facts (once), with the applicant's name opened from its seal; a
        dossier withdrawn before they came stays withdrawn."""
        if self.received:
            return
        self.commune, self.applicant_name = event.commune_code, applicant_name
        self.procedure_code, self.procedure_name = event.procedure_code, event.procedure_name
        self.field, self.area, self.level = event.field, event.area, event.level
        self.competent_authority, self.workflow = event.competent_authority, event.workflow
        self.received_at, self.due_at = event.received_at, event.due_at
        if self.closed:
            self.route = [event.commune_code]  # the receiving commune still sees what became of it
        self._settle(calendar)

    def record_digitised(self, calendar: WorkCalendar) -> None:
        """Every component has an electronic copy (digitisation)."""
        self.digitised = True
        self._settle(calendar)

    def record_payment_requested(self, calendar: WorkCalendar) -> None:
        """A fee is asked for (payment): the dossier waits for it."""
        self.payment_requested = True
        self._settle(calendar)

    def record_fee_settled(self, calendar: WorkCalendar) -> None:
        """The fee is paid, or there is none (payment)."""
        self.fee_settled = True
        self._settle(calendar)

    def resume(self, due_at: datetime, paused_working_days: int, calendar: WorkCalendar) -> None:
        """The citizen supplemented: the clock runs again, the due dates moved by the pause."""
        if not self.waiting_for_supplement or self.closed:
            return
        self.waiting_for_supplement, self.due_at = False, due_at
        if self.step_due_at is not None:
            moved = calendar.add_working_hours(self.step_due_at, HOURS_PER_WORKING_DAY * paused_working_days)
            self.step_due_at = moved.replace(microsecond=0)
        self._settle(calendar)

    def record_signature(
        self, result_code: str, signed_at: datetime, team: Team, calendar: WorkCalendar, now: datetime
    ) -> list[Event]:
        """The approved result is signed: on to the next step (returning it)."""
        if self.status in (RESOLVED, DONE):
            return []  # this result is on record already
        if self.status != SIGNING or self.step is None:
            raise Conflict(f"result signed for dossier {self.code}, which is not awaiting a signature")
        self.result_code, self.signed_at = result_code, signed_at
        return self._enter(self.step + 1, team, calendar, now)

    def withdraw(
        self, reason: str, requested_at: datetime, team: Team, calendar: WorkCalendar, now: datetime
    ) -> list[Event]:
        """The owner asks to withdraw (rút hồ sơ): granted until the dossier is decided.

        Waiting for a supplement or a payment is not decided; an approval, a refusal, a
        returned result or an earlier withdrawal is, and the request is declined.
        """
        if self.decided:
            declined = DossierWithdrawalDeclined(
                dossier_code=self.code,
                reason=WHY_DECIDED[self.status],
                status=self.status,
                requested_at=requested_at,
                declined_at=now,
            )
            return [declined]
        self.withdrawal = Withdrawal(reason=reason, requested_at=requested_at, withdrawn_at=now)
        self._close(WITHDRAWN, team, calendar, now)
        return [DossierWithdrawn(dossier_code=self.code, reason=reason, withdrawn_at=now, requested_at=requested_at)]

    def fire_alarms(self, calendar: WorkCalendar, now: datetime) -> list[Event]:
        """The warnings due at `now`, each marked given (with its date) so it comes once."""
        step_id = self.current_step.id if self.current_step else "-"
        where: dict[str, Any] = {
            "dossier_code": self.code,
            "unit": self.holder_unit or self.commune,
            "holder": self.holder,
        }
        events: list[Event] = []
        for alarm in due_alarms(self.pending_alarms(calendar), now):
            if alarm.kind == "step_overdue":
                self.alarms["step_overdue"] = alarm.at
                events.append(DossierOverdue(scope="step", step=step_id, due_at=alarm.at, **where))
                continue
            deadline = self.deadline
            assert deadline is not None  # a dossier without a date has no pending alarms
            self.alarms["due_soon"] = deadline  # once overdue, "due soon" would come too late
            if alarm.kind == "due_soon":
                events.append(DossierDueSoon(due_at=deadline, **where))
            else:
                self.alarms["overdue"] = deadline
                events.append(DossierOverdue(scope="dossier", step=step_id, due_at=deadline, **where))
        self._settle(calendar)
        return events

    def start(
        self, competent: str, version: WorkflowVersion, team: Team, calendar: WorkCalendar, now: datetime
    ) -> list[Event]:
        """Pin the workflow version, lay out the route through the receiving and competent units,
        and enter the first step."""
        if not self.commune or self.started or self.closed:
            return []
        self.units = {"receiving": self.commune, "competent": competent}
        self.flow = Pin(template=version.template, scope=version.unit, version=version.version, steps=version.steps)
        self.route = route(version.steps, self.units)
        return self._enter(0, team, calendar, now)

    # --- the machinery ---------------------------------------------------------------------

    def _assign(self, holder: str, by: str, team: Team, now: datetime) -> Event:
        """Give the current step to `holder` (a claim, or a leader's reassignment)."""
        team.hand_over(self.holder, holder)
        self.holder = holder
        step = self.current_step
        assert step is not None and self.holder_unit is not None
        return DossierAssigned(
            dossier_code=self.code, step=step.id, unit=self.holder_unit, holder=holder, assigned_by=by, assigned_at=now
        )

    def _enter(
        self, index: int, team: Team, calendar: WorkCalendar, now: datetime, holder: str | None = None
    ) -> list[Event]:
        """Put the dossier into step `index`: transfer between units, assignment, the step's due time."""
        assert self.flow is not None and self.received_at is not None and self.due_at is not None
        step = self.flow.steps[index]
        unit = self.units[step.unit]
        events: list[Event] = []
        if self.holder_unit is not None and self.holder_unit != unit:
            events.append(
                DossierTransferred(
                    dossier_code=self.code, from_unit=self.holder_unit, to_unit=unit, step=step.id, transferred_at=now
                )
            )
        team.hand_over(self.holder, None)
        if holder is None and step.assign == "auto":
            holder = pick_official(team.candidates(unit, step.role), self.field, self.area)
        team.hand_over(None, holder)
        due = step_due(calendar, self.received_at, self.due_at, now, step.share).replace(microsecond=0)
        self.step, self.holder_unit, self.holder, self.step_started_at, self.step_due_at = index, unit, holder, now, due
        if step.action == "sign":
            self.status = SIGNING
        elif step.action == "return":
            self.status = RESOLVED
        self._settle(calendar)
        started = DossierStepStarted(
            dossier_code=self.code,
            workflow=self.flow.template,
            workflow_version=self.flow.version,
            step=step.id,
            step_name=step.name,
            unit=unit,
            role=step.role,
            holder=holder,
            started_at=now,
            step_due_at=due,
        )
        return [*events, started]

    def _close(self, status: Status, team: Team, calendar: WorkCalendar, now: datetime) -> None:
        """End processing: release the holder, stop the alarms."""
        team.hand_over(self.holder, None)
        self.status, self.closed_at, self.holder = status, now, None
        self._settle(calendar)
