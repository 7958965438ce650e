"""A dossier's public history (quá trình giải quyết hồ sơ) and the citizen's requests on it.

The timeline is the one projection of a dossier's journey: intake's own steps (received,
supplemented, withdrawal requested) and what every other service publishes about the
dossier, each step with what the citizen needs of it. Intake keeps no processing status of
its own: whether the dossier is closed, waits for a supplement or has a withdrawal request
pending is read from the steps, in the order they happened to intake. No I/O here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua_contracts import (
    ComponentReceived,
    DossierApologised,
    DossierReceived,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawalDeclined,
    DossierWithdrawalRequested,
    DossierWithdrawn,
    Event,
    PaymentCancelled,
    PaymentCompleted,
    PaymentExpired,
    PaymentNotRequired,
    PaymentRefunded,
    PaymentRequested,
)
from pydantic import BaseModel, ConfigDict, Field

from services.runtime.calendar import WorkCalendar

from . import domain

# What the public tracking page says for each step of a dossier's journey.
LABELS = {
    "dossier.received": "Đã tiếp nhận hồ sơ",
    "dossier.supplement_requested": "Yêu cầu bổ sung hồ sơ (tạm dừng thời hạn)",
    "dossier.supplemented": "Đã nhận hồ sơ bổ sung",
    "dossier.withdrawal_requested": "Công dân đề nghị rút hồ sơ",
    "dossier.withdrawn": "Công dân đã rút hồ sơ",
    "dossier.withdrawal_declined": "Không chấp nhận rút hồ sơ",
    "dossier.digitised": "Đã số hóa thành phần hồ sơ",
    "payment.requested": "Chờ thanh toán phí, lệ phí",
    "payment.completed": "Đã thanh toán phí, lệ phí",
    "payment.cancelled": "Đã hủy yêu cầu thanh toán phí, lệ phí",
    "payment.not_required": "Không phải nộp phí, lệ phí",
    "payment.expired": "Quá hạn thanh toán trực tuyến (nộp phí, lệ phí tại bộ phận một cửa)",
    "payment.refunded": "Đã hoàn trả phí, lệ phí",
    "dossier.transferred": "Chuyển xử lý liên thông",
    "dossier.refused": "Từ chối giải quyết hồ sơ",
    "dossier.apologised": "Xin lỗi và hẹn lại ngày trả kết quả",
    "dossier.approved": "Đã phê duyệt, chờ ký số kết quả",
    "result.signed": "Đã ký số kết quả",
    "result.archived": "Kết quả đã lưu vào kho dữ liệu điện tử của công dân",
    "dossier.completed": "Đã có kết quả, trả kết quả",
    "citizen.notified": "Đã thông báo cho công dân",
    "feedback.received": "Công dân đã đánh giá mức độ hài lòng",
    "complaint.received": "Đã tiếp nhận phản ánh, kiến nghị",
    "complaint.answered": "Đã trả lời phản ánh, kiến nghị",
}
# Steps that tell the citizen something without changing where the dossier stands.
NOTICES = frozenset(
    {"citizen.notified", "result.archived", "feedback.received", "complaint.received", "complaint.answered"}
)
# Routing's events after which nothing more can happen to the dossier, and how to say so.
CLOSING = {"dossier.completed": "result returned", "dossier.refused": "refused", "dossier.withdrawn": "withdrawn"}
# Payment's events after which a fee is no longer waited for online: paid, no longer asked for,
# no longer payable online, paid back, or nothing to pay after all.
PAYMENT_SETTLED = frozenset(
    e.TYPE for e in (PaymentCompleted, PaymentCancelled, PaymentExpired, PaymentRefunded, PaymentNotRequired)
)


class Conflict(Exception):
    """The request does not fit where the dossier stands (HTTP 409)."""


class MissingDocuments(Exception):
    """A resubmission lacks documents the supplement request asked for."""

    def __init__(self, documents: list[str]) -> None:
        super().__init__(f"requested documents are missing: {documents}")
        self.documents = documents


class Step(BaseModel):
    """One step of the history: the event type, when it happened, and the details intake needs."""

    model_config = ConfigDict(frozen=True)

    event: str
    at: datetime
    due_at: datetime | None = None  # received, supplemented: the appointment from then on
    new_due_at: datetime | None = None  # apologised: the new return date promised
    reason: str | None = None
    documents: list[str] | None = None  # supplement requested: what to add
    officer: str | None = None
    requested_at: datetime | None = None
    paused_working_days: int | None = None

    @property
    def label(self) -> str:
        label = LABELS.get(self.event, self.event)
        if self.event == DossierWithdrawalDeclined.TYPE and self.reason:
            return f"{label}: {self.reason}"
        return label


def step_of(event: Event, at: datetime) -> Step:
    """The step another service's event adds to the history."""
    match event:
        case DossierSupplementRequested():
            return Step(
                event=event.TYPE,
                at=at,
                documents=event.documents,
                reason=event.reason,
                officer=event.requested_by,
                requested_at=event.requested_at,
            )
        case DossierApologised():
            return Step(event=event.TYPE, at=at, new_due_at=event.new_due_at)
        case DossierWithdrawalDeclined() | DossierWithdrawn():
            return Step(event=event.TYPE, at=at, reason=event.reason, requested_at=event.requested_at)
    return Step(event=event.TYPE, at=at)


class Timeline(BaseModel):
    """Every step of one dossier, in the order intake learnt them."""

    model_config = ConfigDict(populate_by_name=True)

    dossier_code: str = Field(alias="_id")
    steps: list[Step] = Field(default_factory=list)

    @classmethod
    def received(cls, event: DossierReceived) -> Timeline:
        return cls(_id=event.dossier_code, steps=[Step(event=event.TYPE, at=event.received_at, due_at=event.due_at)])

    def document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)

    def learn(self, event: Event, at: datetime) -> None:
        """Add what another service published about the dossier."""
        self.steps.append(step_of(event, at))

    # --- where the dossier stands, read from the steps -----------------------------------

    @property
    def closed(self) -> str | None:
        """How the dossier ended ("result returned", "refused", "withdrawn"), if it did."""
        return next((CLOSING[s.event] for s in reversed(self.steps) if s.event in CLOSING), None)

    @property
    def open_supplement(self) -> Step | None:
        """Routing's supplement request that no resubmission has answered yet."""
        return self._unanswered(DossierSupplementRequested.TYPE, {DossierSupplemented.TYPE})

    @property
    def pending_withdrawal(self) -> Step | None:
        """The owner's withdrawal request that routing has not answered yet."""
        return self._unanswered(
            DossierWithdrawalRequested.TYPE, {DossierWithdrawn.TYPE, DossierWithdrawalDeclined.TYPE}
        )

    def _unanswered(self, asked: str, answers: set[str]) -> Step | None:
        for step in reversed(self.steps):
            if step.event in answers:
                return None
            if step.event == asked:
                return step
        return None

    @property
    def awaiting_payment(self) -> bool:
        """Whether a fee the dossier carries is still waited for: the dossier is open and payment has
        not settled it since it last asked for it (before payment's first word, it is waited for)."""
        if self.closed:
            return False
        for step in reversed(self.steps):
            if step.event in PAYMENT_SETTLED:
                return False
            if step.event == PaymentRequested.TYPE:
                return True
        return True

    @property
    def due_at(self) -> datetime | None:
        """The appointment date: as received, moved by each accepted supplement."""
        return next((s.due_at for s in reversed(self.steps) if s.due_at is not None), None)

    @property
    def new_due_at(self) -> datetime | None:
        """The new return date promised with an apology, if any."""
        return next((s.new_due_at for s in reversed(self.steps) if s.new_due_at is not None), None)

    def history(self) -> list[Step]:
        """The steps in the order they happened."""
        return sorted(self.steps, key=lambda step: step.at)

    @property
    def status(self) -> str | None:
        """Where the dossier stands, for the citizen: its latest step that is not a mere notice."""
        latest = [step for step in self.history() if step.event not in NOTICES]
        return latest[-1].label if latest else None

    # --- the citizen's requests ------------------------------------------------------------

    def request_withdrawal(self, reason: str, at: datetime) -> DossierWithdrawalRequested:
        """The owner asks to withdraw (rút hồ sơ); routing decides whether it still can."""
        if self.closed:
            raise Conflict(f"dossier {self.dossier_code} is {self.closed}: it can no longer be withdrawn")
        if self.pending_withdrawal:
            raise Conflict(f"dossier {self.dossier_code} already has a withdrawal request pending")
        self.steps.append(Step(event=DossierWithdrawalRequested.TYPE, at=at, reason=reason))
        return DossierWithdrawalRequested(dossier_code=self.dossier_code, reason=reason, requested_at=at)

    def supplement(
        self, components: list[ComponentReceived], at: datetime, calendar: WorkCalendar
    ) -> DossierSupplemented:
        """Accept the one resubmission that answers the open supplement request; the appointment
        moves later by the working days the clock was paused."""
        if self.closed:
            raise Conflict(f"dossier {self.dossier_code} is {self.closed}, not waiting for a supplement")
        request = self.open_supplement
        if request is None or request.requested_at is None or self.due_at is None:
            raise Conflict(f"dossier {self.dossier_code} is not waiting for a supplement")
        given = {component.name for component in components}
        if missing := [document for document in request.documents or [] if document not in given]:
            raise MissingDocuments(missing)
        paused = domain.paused_working_days(calendar, request.requested_at, at)
        due_at = calendar.postpone(self.due_at, paused)
        self.steps.append(Step(event=DossierSupplemented.TYPE, at=at, due_at=due_at, paused_working_days=paused))
        return DossierSupplemented(
            dossier_code=self.dossier_code,
            components=components,
            supplemented_at=at,
            paused_working_days=paused,
            due_at=due_at,
        )
