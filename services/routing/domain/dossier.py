"""A dossier in processing (hồ sơ đang xử lý): routing's aggregate.

It records what other services tell about the dossier (received, digitised, fee
settled, result signed, withdrawal requested), in whatever order their events come
(progress.py), and what officials do to it (here). Each method checks the rules (who
may act, what the state allows), changes the dossier and returns the events to publish;
it raises a `DomainError` and changes nothing when the rules say no. No I/O: the
service layer loads the dossier and the officials of its units (`Team`), and saves both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from motcua_contracts import (
    DossierApologised,
    DossierApproved,
    DossierCompleted,
    DossierRefused,
    DossierSupplementRequested,
    Event,
)

from services.runtime.calendar import WorkCalendar
from services.runtime.clock import local

from .deadlines import APOLOGY_HORIZON, classify
from .errors import Conflict, Forbidden, Invalid
from .officials import LEADER, RECEIVING, SPECIALIST, Official, Team
from .progress import DossierProgress
from .record import Apology, Refusal, SupplementRequest
from .status import DONE, REFUSED, SIGNING
from .workflow import Action, step_index


class Dossier(DossierProgress):
    """A dossier with the officers' actions on it: the rules of who may do what, when."""

    def claim(self, who: Official, team: Team, now: datetime) -> list[Event]:
        """Take the unassigned step from the unit's queue."""
        self._own_unit(who)
        step = self.current_step
        if step is None or self.closed or step.assign == "none":
            raise Conflict(f"dossier {self.code} has no step to claim")
        if not who.has_role(step.role):
            raise Forbidden(f"step {step.id!r} is for the {step.role} role")
        if self.holder is not None:
            raise Conflict(f"step {step.id!r} of dossier {self.code} is already held by {self.holder}")
        return [self._assign(who.id, who.id, team, now)]

    def forward(
        self, who: Official, team: Team, calendar: WorkCalendar, now: datetime, to: str | None = None
    ) -> list[Event]:
        """Finish the step and enter the next one (maybe at another unit), held by `to` if named."""
        step_at = self._holding(who, "forward")
        self._not_waiting()
        following = self.steps[step_at + 1]
        if to is not None:
            self._eligible(team, to, self.units[following.unit], following.role)
        return self._enter(step_at + 1, team, calendar, now, holder=to)

    def request_supplement(
        self, who: Official, documents: list[str], reason: str, calendar: WorkCalendar, now: datetime
    ) -> list[Event]:
        """Send the dossier back for documents; its clock pauses until the citizen supplements."""
        self._holding(who, "forward", "approve")
        self._not_waiting()
        self.waiting_for_supplement = True
        self.supplement = SupplementRequest(
            documents=documents, reason=reason, by=who.id, by_name=who.name, at=now, unit=self.holder_unit
        )
        self._settle(calendar)
        requested = DossierSupplementRequested(
            dossier_code=self.code,
            documents=documents,
            reason=reason,
            requested_by=who.signature,
            requested_at=now,
            unit=self.holder_unit,
        )
        return [requested]

    def refuse(self, who: Official, reason: str, team: Team, calendar: WorkCalendar, now: datetime) -> list[Event]:
        """Refuse to resolve the dossier, with the reason: it ends here."""
        self._holding(who, "forward", "approve")
        if not who.has_role(SPECIALIST, LEADER):
            raise Forbidden("only a specialist or a leader refuses a dossier")
        unit = self.holder_unit or who.unit
        self.refusal = Refusal(reason=reason, by=who.signature, at=now, unit=unit)
        self._close(REFUSED, team, calendar, now)
        return [
            DossierRefused(dossier_code=self.code, reason=reason, refused_by=who.signature, unit=unit, refused_at=now)
        ]

    def approve(
        self, who: Official, team: Team, calendar: WorkCalendar, now: datetime, title: str | None = None
    ) -> list[Event]:
        """A leader approves the result once nothing is missing; it goes to signing."""
        self._own_unit(who)
        if not who.has_role(LEADER):
            raise Forbidden("only a leader approves")
        take = self.holder is None
        self._holding(who, "approve", from_pool=True)
        if waiting := [reason for reason in self.waiting_for() if reason != "signature"]:
            raise Conflict(f"dossier {self.code} cannot be approved yet: waiting for {', '.join(waiting)}")
        events: list[Event] = [self._assign(who.id, who.id, team, now)] if take else []
        self.approved_at, self.approved_by, self.status = now, who.id, SIGNING
        title = title or f"Kết quả giải quyết: {self.procedure_name}"
        competent = self.units.get("competent") or self.holder_unit or who.unit
        events.append(
            DossierApproved(
                dossier_code=self.code,
                competent_unit=competent,
                approved_by=who.signature,
                approver_id=who.id,
                result_title=title,
                procedure_code=self.procedure_code,
                procedure_name=self.procedure_name,
                field=self.field,
            )
        )
        return events + self._enter(step_index(self.steps, "sign"), team, calendar, now)

    def return_result(self, who: Official, team: Team, calendar: WorkCalendar, now: datetime) -> list[Event]:
        """Hand the signed result to the citizen: done, early / on time / late by the legal due date."""
        self._own_unit(who)
        if not who.has_role(RECEIVING):
            raise Forbidden("only a receiving officer returns results")
        take = self.holder is None
        self._holding(who, "return", from_pool=True)
        events: list[Event] = [self._assign(who.id, who.id, team, now)] if take else []
        assert self.due_at is not None and self.result_code is not None  # received, and signed
        self.completed_at, self.outcome = now, classify(now, self.due_at)
        self._close(DONE, team, calendar, now)
        completed = DossierCompleted(
            dossier_code=self.code,
            result_code=self.result_code,
            completed_at=now,
            due_at=self.due_at,
            outcome=self.outcome,
            apologised=self.apology is not None,
        )
        return [*events, completed]

    def apologise(
        self,
        who: Official,
        reason: str,
        new_due_at: datetime,
        calendar: WorkCalendar,
        now: datetime,
        horizon: timedelta = APOLOGY_HORIZON,
    ) -> list[Event]:
        """Apologise with a new return date (phiếu xin lỗi): once, before the due date, by the
        specialist or leader who holds the current step; the new date is later than the due
        date and at most `horizon` after it."""
        self._own_unit(who)
        if not who.has_role(SPECIALIST, LEADER):
            raise Forbidden("only a specialist or a leader apologises for a late dossier")
        if self.closed or self.due_at is None:
            raise Conflict(f"dossier {self.code} is {self.status}")
        if self.holder != who.id:
            step = self.current_step.id if self.current_step else "-"
            holder = f"held by {self.holder}" if self.holder else "unassigned"
            raise Forbidden(f"only the holder of the current step apologises; step {step!r} is {holder}")
        if self.apology is not None:
            raise Conflict(f"dossier {self.code} already has an apology with a new date: it is allowed once")
        if now >= self.due_at:
            raise Conflict(f"dossier {self.code} is already past its due date; the apology had to come before it")
        if new_due_at.tzinfo is None or new_due_at <= self.due_at:
            raise Invalid("the new date must be later than the due date, with its UTC offset")
        if new_due_at > self.due_at + horizon:
            latest = local(self.due_at + horizon).date().isoformat()
            raise Invalid(
                f"the new date must be at most {horizon.days} days after the due date (on or before {latest})"
            )
        self.apology = Apology(reason=reason, new_due_at=new_due_at, by=who.signature, at=now, unit=who.unit)
        self._settle(calendar)
        apologised = DossierApologised(
            dossier_code=self.code,
            reason=reason,
            due_at=self.due_at,
            new_due_at=new_due_at,
            apologised_by=who.signature,
            unit=who.unit,
            apologised_at=now,
        )
        return [apologised]

    def reassign(self, who: Official, to: str, team: Team, now: datetime) -> list[Event]:
        """A leader moves the current step to another official of the unit with the step's role."""
        self._own_unit(who)
        if not who.has_role(LEADER):
            raise Forbidden("only a leader reassigns dossiers")
        step = self.current_step
        if step is None or self.closed or step.assign == "none":
            raise Conflict(f"dossier {self.code} has no step to reassign")
        self._eligible(team, to, self.holder_unit or who.unit, step.role)
        return [self._assign(to, who.id, team, now)]

    # --- how the rules are kept -------------------------------------------------------------

    def _own_unit(self, who: Official) -> None:
        if self.holder_unit != who.unit:
            raise Forbidden(f"dossier {self.code} is held by unit {self.holder_unit}, not yours")

    def _holding(self, who: Official, *actions: Action, from_pool: bool = False) -> int:
        """The current step's index, if it ends with one of `actions` and `who` holds it
        (or, `from_pool`, nobody holds it yet and `who` takes it by acting)."""
        self._own_unit(who)
        step = self.current_step
        if step is None or self.step is None or self.closed:
            raise Conflict(f"dossier {self.code} is {self.status}")
        if step.action not in actions:
            raise Conflict(f"dossier {self.code} is at step {step.id!r}, which ends with {step.action}")
        if self.holder is None and not from_pool:
            raise Conflict(f"step {step.id!r} of dossier {self.code} is unassigned: claim it first")
        if self.holder is not None and self.holder != who.id:
            raise Forbidden(f"step {step.id!r} of dossier {self.code} is held by {self.holder}")
        return self.step

    def _not_waiting(self) -> None:
        if self.waiting_for_supplement:
            raise Conflict(f"dossier {self.code} is waiting for a supplement from the citizen")

    @staticmethod
    def _eligible(team: Team, official_id: str, unit: str, role: str) -> None:
        target = team.get(official_id)
        if target is None or not target.active or target.unit != unit or role not in target.roles:
            raise Invalid(f"{official_id!r} is not an active {role} of unit {unit}")
