"""Payment rules (thanh toán phí, lệ phí): one payment per dossier, from the fee's request,
through its opening at the gateway, to its confirmation by the gateway's callback, or its
cancellation when the dossier is withdrawn. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from motcua_contracts import (
    DossierReceived,
    Event,
    PaymentCancelled,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
)
from pydantic import BaseModel, ConfigDict, Field

from .gateway_protocol import CURRENCY, SUCCESS, Callback, parse_gateway_time

PENDING, PAID, NOT_REQUIRED, CANCELLED = "pending", "paid", "not_required", "cancelled"
State = Literal["pending", "paid", "not_required", "cancelled"]

# What a callback did (the answer to the gateway).
CONFIRMED = "confirmed"
ALREADY_CONFIRMED = "already confirmed"
RECORDED_FOR_REFUND = "recorded for refund"
ALREADY_RECORDED = "already recorded for refund"
NOT_PAID = "not paid"
AMOUNT_FLAGGED = "amount flagged"  # refused: another amount than the fee; kept for follow-up
ALREADY_FLAGGED = "amount already flagged"
CHANGED = (CONFIRMED, RECORDED_FOR_REFUND, AMOUNT_FLAGGED)  # results that change the payment

WITHDRAWN = "dossier withdrawn"
REFERENCE_PREFIX = "PAY-"


def reference_for(dossier_code: str) -> str:
    """The payment's reference at the gateway, derived from the dossier code (so it is unique)."""
    return REFERENCE_PREFIX + dossier_code


def dossier_code_of(reference: str) -> str | None:
    """The dossier a reference was made for, or None if it is not one of ours."""
    code = reference.removeprefix(REFERENCE_PREFIX)
    return code if code != reference and code else None


class Problem(NamedTuple):
    """Why a callback is refused: `reason` names the check (for metrics), `detail` says what was wrong."""

    reason: str
    detail: str


def callback_problem(
    callback: Callback, partner_code: str, now: datetime, max_age: timedelta, skew: timedelta
) -> Problem | None:
    """Why a (correctly signed) callback is not for us or not current; None if it is.
    Older than `max_age` is a replay; later than `now` by more than `skew` is a wrong clock."""
    if callback.partner_code != partner_code:
        return Problem("partner", f"partner code {callback.partner_code!r} is not ours")
    if callback.currency != CURRENCY:
        return Problem("currency", f"currency {callback.currency!r} is not {CURRENCY}")
    try:
        sent = parse_gateway_time(callback.time)
    except ValueError:
        return Problem("time", f"time {callback.time!r} is not a date")
    if now - sent > max_age:
        return Problem("time", f"time {callback.time!r} is older than {max_age.total_seconds():.0f}s")
    if sent - now > skew:
        return Problem("time", f"time {callback.time!r} is more than {skew.total_seconds():.0f}s in the future")
    return None


class Refund(BaseModel):
    """A successful transaction the fee did not need (paid twice, or after the dossier was withdrawn)."""

    transaction_id: str
    amount_vnd: int
    reason: str
    recorded_at: datetime


class FlaggedCallback(BaseModel):
    """A signed callback refused because its amount is not the fee's: someone must look into it."""

    transaction_id: str
    amount_vnd: int
    error_code: str
    recorded_at: datetime


class Payment(BaseModel):
    """A dossier's fee payment; `_id` is the dossier code."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    dossier_code: str = Field(alias="_id")
    commune: str
    state: State
    amount_vnd: int = 0
    reference: str | None = None
    # None while only the dossier's withdrawal is known (its receipt came later, out of order).
    requested_at: datetime | None = None
    trace: dict[str, str] = Field(default_factory=dict, description="The dossier's trace, continued by the callback.")
    payment_url: str | None = None
    opened_at: datetime | None = None
    open_attempts: int = 0
    next_open_at: datetime | None = None
    transaction_id: str | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    refunds: list[Refund] = Field(default_factory=list)
    flagged: list[FlaggedCallback] = Field(default_factory=list)

    @classmethod
    def new(cls, dossier_code: str, commune: str) -> Payment:
        """A dossier's payment before its fee is asked for."""
        return cls.model_validate({"_id": dossier_code, "commune": commune, "state": PENDING})

    @classmethod
    def withdrawal_first(cls, dossier_code: str, commune: str, at: datetime) -> Payment:
        """What is known when the withdrawal arrives before the dossier's receipt."""
        payment = cls.new(dossier_code, commune)
        payment.state, payment.cancelled_at, payment.cancel_reason = CANCELLED, at, WITHDRAWN
        return payment

    def request(self, event: DossierReceived, trace: dict[str, str], gateway: str, at: datetime) -> list[Event]:
        """Ask for the dossier's fee (or say none is due); once per dossier."""
        if self.requested_at is not None:
            return []
        withdrawn = self.state == CANCELLED
        self.requested_at, self.trace, self.amount_vnd = at, trace, event.fee_vnd
        if event.fee_vnd == 0:
            self.state = NOT_REQUIRED
            return [PaymentNotRequired(dossier_code=self.dossier_code)]
        self.state, self.reference, self.next_open_at = PENDING, reference_for(self.dossier_code), at
        events: list[Event] = [
            PaymentRequested(
                dossier_code=self.dossier_code, reference=self.reference, amount_vnd=self.amount_vnd, gateway=gateway
            )
        ]
        return events + (self.withdraw(at) if withdrawn else [])

    def withdraw(self, at: datetime) -> list[Event]:
        """The dossier was withdrawn: a fee not paid yet is no longer asked for."""
        if self.state != PENDING or self.reference is None:
            return []
        self.state, self.cancelled_at, self.cancel_reason = CANCELLED, at, WITHDRAWN
        return [
            PaymentCancelled(
                dossier_code=self.dossier_code, reference=self.reference, reason=WITHDRAWN, cancelled_at=at
            )
        ]

    @property
    def to_open(self) -> bool:
        """Still to be sent to the gateway's INIT."""
        return self.state == PENDING and self.payment_url is None

    def opened(self, payment_url: str, at: datetime) -> bool:
        """The gateway opened the transaction; False if that no longer matters."""
        if not self.to_open:
            return False
        self.payment_url, self.opened_at = payment_url, at
        return True

    def opening_failed(self, at: datetime, pause: timedelta) -> bool:
        """The gateway did not open it: try again after `pause`; False if that no longer matters."""
        if not self.to_open:
            return False
        self.open_attempts += 1
        self.next_open_at = at + pause
        return True

    def take(self, callback: Callback, at: datetime) -> tuple[str, list[Event]]:
        """A verified callback for this payment: flag another amount, ignore a failed transaction,
        confirm a successful one. Each gateway transaction has its effect once."""
        if callback.amount_vnd != self.amount_vnd:
            if any(flag.transaction_id == callback.transaction_id for flag in self.flagged):
                return ALREADY_FLAGGED, []
            flag = FlaggedCallback(
                transaction_id=callback.transaction_id,
                amount_vnd=callback.amount_vnd,
                error_code=callback.error_code,
                recorded_at=at,
            )
            self.flagged.append(flag)
            return AMOUNT_FLAGGED, []
        if callback.error_code != SUCCESS:
            return NOT_PAID, []
        return self.confirm(callback.transaction_id, at)

    def confirm(self, transaction_id: str, at: datetime) -> tuple[str, list[Event]]:
        """A successful transaction reached us: settle the fee once; anything more is kept for a refund."""
        if self.state == PENDING and self.reference is not None:
            self.state, self.transaction_id, self.paid_at = PAID, transaction_id, at
            completed = PaymentCompleted(
                dossier_code=self.dossier_code,
                reference=self.reference,
                amount_vnd=self.amount_vnd,
                gateway_transaction=transaction_id,
                paid_at=at,
            )
            return CONFIRMED, [completed]
        if transaction_id == self.transaction_id:
            return ALREADY_CONFIRMED, []
        if any(refund.transaction_id == transaction_id for refund in self.refunds):
            return ALREADY_RECORDED, []
        reason = "paid twice" if self.state == PAID else f"paid after cancellation ({self.cancel_reason})"
        self.refunds.append(
            Refund(transaction_id=transaction_id, amount_vnd=self.amount_vnd, reason=reason, recorded_at=at)
        )
        return RECORDED_FOR_REFUND, []
