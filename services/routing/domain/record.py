"""What routing records of a dossier (hồ sơ) and what can be read from it.

The fields are the stored document (`_id` = dossier code); `Dossier` (dossier.py)
adds the behaviour. The status is derived from the facts until the dossier is decided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua_contracts.events import Outcome
from pydantic import BaseModel, ConfigDict, Field

from services.runtime.calendar import WorkCalendar

from .deadlines import Alarm, next_alarm, pending_alarms
from .status import (
    CLOSED,
    DECIDED,
    PROCESSING,
    RECEIVED,
    SIGNING,
    WAITING_FOR_PAYMENT,
    WAITING_FOR_SUPPLEMENT,
    Status,
)
from .workflow import Step


class Pin(BaseModel):
    """The workflow version the dossier follows from start to end, whatever is saved later."""

    template: str
    scope: str
    version: int
    steps: list[Step]


class SupplementRequest(BaseModel):
    """An official's request for more documents (phiếu yêu cầu bổ sung)."""

    documents: list[str]
    reason: str
    by: str
    by_name: str | None = None
    at: datetime
    unit: str | None = None


class Refusal(BaseModel):
    """Why and by whom the dossier was refused (phiếu từ chối)."""

    reason: str
    by: str
    at: datetime
    unit: str


class Apology(BaseModel):
    """The apology with a new return date (phiếu xin lỗi và hẹn lại)."""

    reason: str
    new_due_at: datetime
    by: str
    at: datetime
    unit: str


class Withdrawal(BaseModel):
    """The owner's withdrawal, as routing granted it."""

    reason: str
    requested_at: datetime
    withdrawn_at: datetime


class DossierRecord(BaseModel):
    """Routing's record of one dossier, keyed by its code."""

    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(alias="_id")
    # what intake said at receipt (dossier.received)
    commune: str | None = None
    procedure_code: str | None = None
    procedure_name: str | None = None
    field: str | None = None
    area: str | None = None
    level: str | None = None
    competent_authority: str | None = None
    workflow: str | None = Field(default=None, description="The template the catalogue names.")
    applicant_name: str | None = None
    trace: dict[str, str] = Field(
        default_factory=dict, description="The dossier's trace context: officials' actions and alarms continue it."
    )
    received_at: datetime | None = None
    due_at: datetime | None = Field(default=None, description="The legal due date, moved only by supplement pauses.")
    # other services' outcomes
    digitised: bool = False
    payment_requested: bool = False
    fee_settled: bool = False
    # where it is in its workflow
    units: dict[str, str] = Field(default_factory=dict, description="`receiving` and `competent` unit codes.")
    flow: Pin | None = None
    route: list[str] = Field(default_factory=list)
    step: int | None = None
    holder_unit: str | None = None
    holder: str | None = None
    step_started_at: datetime | None = None
    step_due_at: datetime | None = None
    status: Status = RECEIVED
    waiting_for_supplement: bool = False
    supplement: SupplementRequest | None = None
    apology: Apology | None = None
    refusal: Refusal | None = None
    withdrawal: Withdrawal | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None
    result_code: str | None = None
    signed_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    # deadlines: alarms given (keyed by their date), the date promised, the watcher's next look
    alarms: dict[str, datetime] = Field(default_factory=dict)
    deadline_at: datetime | None = None
    alarm_at: datetime | None = None

    # --- reading ------------------------------------------------------------------------

    @property
    def received(self) -> bool:
        return self.received_at is not None

    @property
    def started(self) -> bool:
        return self.flow is not None

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def decided(self) -> bool:
        return self.status in DECIDED

    @property
    def steps(self) -> list[Step]:
        """The steps of the pinned workflow version (none before it starts)."""
        return self.flow.steps if self.flow else []

    @property
    def current_step(self) -> Step | None:
        return self.flow.steps[self.step] if self.flow and self.step is not None else None

    @property
    def next_step(self) -> Step | None:
        """The step after the current one, if any."""
        index = self.step
        return self.steps[index + 1] if index is not None and index + 1 < len(self.steps) else None

    def needs_team_to_enter(self, step: Step | None) -> bool:
        """Whether moving into `step` involves the officials of the dossier's units: to pick
        who takes an automatically assigned step, or to release the current holder's workload."""
        return self.holder is not None or (step is not None and step.assign == "auto")

    @property
    def deadline(self) -> datetime | None:
        """The date promised to the citizen: an apology's new date, else the due date."""
        return self.apology.new_due_at if self.apology else self.due_at

    def waiting_for(self) -> list[str]:
        """What the dossier still needs from others before (or after) its approval."""
        reasons = ["supplement"] if self.waiting_for_supplement else []
        reasons += [] if self.digitised else ["digitisation"]
        reasons += [] if self.fee_settled else ["payment"]
        return reasons + (["signature"] if self.status == SIGNING else [])

    @property
    def ready_for_decision(self) -> bool:
        """Received, digitised, fee settled, and not sent back for a supplement."""
        return self.received and not {"supplement", "digitisation", "payment"} & set(self.waiting_for())

    def visible_to(self, unit: str) -> bool:
        """Officials see the dossiers routed through their unit."""
        return unit in self.route

    def state(self) -> dict[str, Any]:
        """Where the dossier stands, as the audit log records it before and after an action."""
        step = self.current_step
        return {
            "status": self.status,
            "step": step.id if step else None,
            "unit": self.holder_unit,
            "holder": self.holder,
        }

    def pending_alarms(self, calendar: WorkCalendar) -> list[Alarm]:
        """None while the clock is paused for a supplement or once the dossier is closed."""
        if self.closed or self.status == WAITING_FOR_SUPPLEMENT or self.deadline is None:
            return []
        return pending_alarms(self.deadline, self.step_due_at, self.alarms, calendar)

    def _settle(self, calendar: WorkCalendar) -> None:
        """The status from the facts known (until decided), then when the watcher must look next."""
        if not self.decided:
            if self.waiting_for_supplement:
                self.status = WAITING_FOR_SUPPLEMENT
            elif self.payment_requested and not self.fee_settled:
                self.status = WAITING_FOR_PAYMENT
            else:
                self.status = PROCESSING if self.received else RECEIVED
        self.deadline_at = self.deadline
        self.alarm_at = next_alarm(self.pending_alarms(calendar))
