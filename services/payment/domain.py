"""Payment rules (thanh toán phí, lệ phí): one payment per dossier, from the fee's request, through
its orders at the gateways, to its capture (a gateway's verified notice or the counter's record),
its expiry, its cancellation, and its refunds. Pure: no I/O.

A payment has orders: the first, at the default gateway (the national payment platform), is
opened at once so the citizen's link works; more are opened when the citizen picks another
gateway on the payment page. Every successful transaction that reaches us is money received:
it is captured in the ledger, and when the fee did not need it (paid twice, or after the
dossier was withdrawn or refused) a refund is due at once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from motcua_contracts import (
    DossierReceived,
    Event,
    Exemption,
    FeeLine,
    PaymentCancelled,
    PaymentCompleted,
    PaymentExpired,
    PaymentNotRequired,
    PaymentRefunded,
    PaymentRequested,
    SealedPayLink,
)
from motcua_contracts.events import PaymentMethod
from pydantic import BaseModel, ConfigDict, Field

from .gateways import Notice
from .ledger import LedgerEntry

PENDING, PAID, NOT_REQUIRED, CANCELLED, EXPIRED = "pending", "paid", "not_required", "cancelled", "expired"
State = Literal["pending", "paid", "not_required", "cancelled", "expired"]
PAYABLE = (PENDING, EXPIRED)  # an expired fee can still be paid at the counter, and a late notice is taken

# What a notice did (the answer to the gateway).
CONFIRMED = "confirmed"
ALREADY_CONFIRMED = "already confirmed"
RECORDED_FOR_REFUND = "recorded for refund"
ALREADY_RECORDED = "already recorded for refund"
NOT_PAID = "not paid"
STILL_PENDING = "pending"
AMOUNT_FLAGGED = "amount"  # refused: another amount than the fee; kept for follow-up
ALREADY_FLAGGED = "amount already flagged"
UNKNOWN = "unknown"
CHANGED = (CONFIRMED, RECORDED_FOR_REFUND, AMOUNT_FLAGGED, NOT_PAID)  # results that change the payment

WITHDRAWN, REFUSED, PAID_TWICE = "dossier withdrawn", "dossier refused", "paid twice"
COUNTER = "counter"
REFERENCE_PREFIX = "PAY-"
REFERENCE = re.compile(r"^PAY-(?P<code>[^\s]+-[0-9]{6}-[0-9]{4,})(?:-(?P<order>[0-9]{1,3}))?$")


def reference_for(dossier_code: str, order: int = 1) -> str:
    """An order's reference at its gateway: the dossier code, and the order's number after the first."""
    return REFERENCE_PREFIX + dossier_code + (f"-{order}" if order > 1 else "")


def dossier_code_of(reference: str) -> str | None:
    """The dossier an order's reference was made for, or None if it is not one of ours."""
    found = REFERENCE.match(reference)
    return found["code"] if found else None


class Problem(NamedTuple):
    """Why something asked of a payment is not done: an HTTP status and what to tell."""

    status: int
    detail: str


class Order(BaseModel):
    """One attempt to pay at one gateway, under its own reference."""

    reference: str
    gateway: str
    state: Literal["opening", "open", "paid", "failed"] = "opening"
    page_url: str | None = None
    opened_at: datetime | None = None
    transaction_id: str | None = None
    queries: int = 0
    next_query_at: datetime | None = None


class Capture(BaseModel):
    """How the fee was paid."""

    channel: Literal["online", "counter"]
    gateway: str
    method: PaymentMethod
    reference: str
    transaction_id: str
    paid_at: datetime
    receipt_number: str | None = None
    recorded_by: str | None = None  # at the counter: the officer


class Refund(BaseModel):
    """Money to pay back: through its gateway by the refund job, or in cash at the counter."""

    refund_id: str
    gateway: str
    reference: str
    transaction_id: str  # the transaction paid back
    amount_vnd: int
    reason: str
    state: Literal["due", "done", "at_counter"] = "due"
    attempts: int = 0
    next_at: datetime | None = None
    refund_transaction: str | None = None
    done_at: datetime | None = None
    problem: str | None = None


class FlaggedNotice(BaseModel):
    """A signed notice refused because its amount is not the fee's: someone must look into it."""

    gateway: str
    transaction_id: str
    amount_vnd: int
    code: str
    recorded_at: datetime


class Payment(BaseModel):
    """A dossier's fee payment; `_id` is the dossier code."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    dossier_code: str = Field(alias="_id")
    commune: str
    state: State
    procedure_name: str = ""
    amount_vnd: int = 0
    lines: list[FeeLine] = Field(default_factory=list)
    exemption: Exemption | None = None
    reference: str | None = None  # the first order's
    # None while only the dossier's withdrawal is known (its receipt came later, out of order).
    requested_at: datetime | None = None
    expires_at: datetime | None = None
    trace: dict[str, str] = Field(default_factory=dict, description="The dossier's trace, continued by notices.")
    orders: list[Order] = Field(default_factory=list)
    open_attempts: int = 0
    next_open_at: datetime | None = None
    next_query_at: datetime | None = None  # the earliest of the open orders' (indexed)
    captured: Capture | None = None
    received: list[str] = Field(default_factory=list, description="Every successful transaction id taken in.")
    expired_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    refunds: list[Refund] = Field(default_factory=list)
    next_refund_at: datetime | None = None  # the earliest due refund's (indexed)
    flagged: list[FlaggedNotice] = Field(default_factory=list)
    officials: list[str] = Field(
        default_factory=list, description="Officials routing put on the dossier: who may record a counter payment."
    )

    def admit(self, official: str | None) -> bool:
        """Routing put `official` on the dossier (a step's holder, or who assigned it)."""
        if not official or official in self.officials:
            return False
        self.officials.append(official)
        return True

    @classmethod
    def new(cls, dossier_code: str, commune: str) -> Payment:
        """A dossier's payment before its fee is asked for."""
        return cls.model_validate({"_id": dossier_code, "commune": commune, "state": PENDING})

    @classmethod
    def closed_first(cls, dossier_code: str, commune: str, reason: str, at: datetime) -> Payment:
        """What is known when the withdrawal or refusal arrives before the dossier's receipt."""
        payment = cls.new(dossier_code, commune)
        payment.state, payment.cancelled_at, payment.cancel_reason = CANCELLED, at, reason
        return payment

    # --- the request -----------------------------------------------------------
    def request(
        self,
        event: DossierReceived,
        trace: dict[str, str],
        gateway: str,
        at: datetime,
        window: timedelta,
        pay_link: SealedPayLink,
    ) -> list[Event]:
        """Ask for the dossier's fee (or say none is due); once per dossier."""
        if self.requested_at is not None:
            return []
        closed = self.state == CANCELLED
        self.requested_at, self.trace, self.amount_vnd = at, trace, event.fee_vnd
        self.procedure_name, self.lines, self.exemption = event.procedure_name, event.fee_lines, event.exemption
        if event.fee_vnd == 0:
            self.state = NOT_REQUIRED
            return [PaymentNotRequired(dossier_code=self.dossier_code, exemption=event.exemption)]
        self.state, self.reference, self.next_open_at = PENDING, reference_for(self.dossier_code), at
        self.expires_at = event.pay_by or at + window
        self.orders = [Order(reference=self.reference, gateway=gateway)]
        requested = PaymentRequested(
            dossier_code=self.dossier_code,
            reference=self.reference,
            amount_vnd=self.amount_vnd,
            gateway=gateway,
            expires_at=self.expires_at,
            pay_link=pay_link,
        )
        return [requested, *(self.close(self.cancel_reason or WITHDRAWN, at) if closed else [])]

    # --- orders at the gateways -------------------------------------------------
    def order(self, reference: str) -> Order | None:
        return next((o for o in self.orders if o.reference == reference), None)

    @property
    def to_open(self) -> bool:
        """The first order still to be opened at its gateway."""
        return self.state == PENDING and bool(self.orders) and self.orders[0].state == "opening"

    def opened(self, reference: str, page_url: str, at: datetime, query_after: timedelta) -> bool:
        """The gateway opened the order; False if that no longer matters."""
        order = self.order(reference)
        if order is None or order.state != "opening" or self.state != PENDING:
            return False
        order.state, order.page_url, order.opened_at = "open", page_url, at
        order.next_query_at, self.next_open_at = at + query_after, None
        self._schedule_queries()
        return True

    def opening_failed(self, at: datetime, pause: timedelta) -> bool:
        """The gateway did not open the first order: try again after `pause`; False if that no longer matters."""
        if not self.to_open:
            return False
        self.open_attempts += 1
        self.next_open_at = at + pause
        return True

    def may_start(self, at: datetime) -> Problem | None:
        """Why the citizen cannot start paying online now, if they cannot."""
        if self.state == PAID:
            return Problem(409, "the fee is paid already")
        if self.state == EXPIRED or (self.expires_at is not None and at >= self.expires_at):
            return Problem(410, "the time to pay online has passed; the fee can be paid at the counter")
        if self.state != PENDING:
            return Problem(409, f"nothing to pay: the payment is {self.state}")
        if len(self.orders) >= 20:
            return Problem(429, "too many payment attempts for this dossier; pay at the counter")
        return None

    def new_order(self, gateway: str, page_url_of: str, at: datetime, query_after: timedelta) -> Order:
        """A new order at `gateway` (whose page the caller built as `page_url_of`); check `may_start` first."""
        order = Order(
            reference=reference_for(self.dossier_code, len(self.orders) + 1),
            gateway=gateway,
            state="open",
            page_url=page_url_of,
            opened_at=at,
            next_query_at=at + query_after,
        )
        self.orders.append(order)
        self._schedule_queries()
        return order

    def next_reference(self) -> str:
        return reference_for(self.dossier_code, len(self.orders) + 1)

    def queried(self, reference: str, at: datetime, again_after: timedelta | None, asked: bool = True) -> bool:
        """A query of the order got no final answer: ask again after `again_after` (None: stop asking).
        `asked` False: the order was not asked about (too old), only no longer will be."""
        order = self.order(reference)
        if order is None:
            return False
        order.queries += 1 if asked else 0
        order.next_query_at = None if again_after is None else at + again_after
        self._schedule_queries()
        return True

    def _schedule_queries(self) -> None:
        times = [o.next_query_at for o in self.orders if o.state == "open" and o.next_query_at is not None]
        self.next_query_at = min(times) if times else None

    # --- the gateways' word -----------------------------------------------------
    def take(self, notice: Notice, at: datetime) -> tuple[str, list[LedgerEntry]]:
        """A verified notice (notification or query answer) about one of this payment's orders.
        Each gateway transaction has its effect once. On CONFIRMED the caller issues the receipt
        (`issue_receipt`), which makes the `payment.completed` event."""
        order = self.order(notice.reference)
        if order is None or order.gateway != notice.gateway:
            return UNKNOWN, []
        if notice.amount_vnd != self.amount_vnd:
            if any(f.transaction_id == notice.transaction_id for f in self.flagged):
                return ALREADY_FLAGGED, []
            self.flagged.append(
                FlaggedNotice(
                    gateway=notice.gateway,
                    transaction_id=notice.transaction_id,
                    amount_vnd=notice.amount_vnd,
                    code=notice.code,
                    recorded_at=at,
                )
            )
            return AMOUNT_FLAGGED, []
        if notice.state == "pending":
            return STILL_PENDING, []
        if notice.state == "failed":
            if order.state in ("open", "opening"):
                order.state, order.next_query_at = "failed", None
                self._schedule_queries()
            return NOT_PAID, []
        if notice.transaction_id in self.received:
            refunded = any(r.transaction_id == notice.transaction_id for r in self.refunds)
            return (ALREADY_RECORDED if refunded else ALREADY_CONFIRMED), []
        order.state, order.transaction_id, order.next_query_at = "paid", notice.transaction_id, None
        self._schedule_queries()
        self.received.append(notice.transaction_id)
        entry = self._entry(
            "capture", "online", notice.gateway, notice.reference, notice.transaction_id, notice.amount_vnd, at
        )
        if self.state in PAYABLE and self.requested_at is not None:
            self.state = PAID
            self.captured = Capture(
                channel="online",
                gateway=notice.gateway,
                method=notice.method,
                reference=notice.reference,
                transaction_id=notice.transaction_id,
                paid_at=at,
            )
            return CONFIRMED, [entry]
        reason = PAID_TWICE if self.state == PAID else f"paid after cancellation ({self.cancel_reason})"
        self._refund(notice.gateway, notice.reference, notice.transaction_id, reason, at)
        return RECORDED_FOR_REFUND, [entry]

    def record_counter(
        self, method: Literal["cash", "card"], amount_vnd: int, officer: str, at: datetime
    ) -> Problem | None:
        """The receiving officer took the fee at the counter; the caller then issues the receipt."""
        if self.state == NOT_REQUIRED:
            return Problem(409, "this dossier has no fee to pay")
        if self.state == PAID:
            return Problem(409, "the fee is paid already")
        if self.state == CANCELLED:
            return Problem(409, f"the fee is no longer asked for ({self.cancel_reason})")
        if amount_vnd != self.amount_vnd:
            return Problem(422, f"the fee is {self.amount_vnd} VND, not {amount_vnd}")
        self.state = PAID
        self.captured = Capture(
            channel="counter",
            gateway=COUNTER,
            method=method,
            reference=self.reference or "",
            transaction_id="",
            paid_at=at,
            recorded_by=officer,
        )
        return None

    def issue_receipt(self, receipt_number: str) -> tuple[PaymentCompleted, LedgerEntry | None]:
        """The fee's capture gets its electronic receipt's number: `payment.completed`, and at the
        counter its ledger entry (the receipt number is the counter's transaction id)."""
        capture = self.captured
        assert capture is not None and self.reference is not None
        capture.receipt_number = receipt_number
        entry = None
        if capture.channel == "counter":
            capture.transaction_id = receipt_number
            self.received.append(receipt_number)
            entry = self._entry(
                "capture",
                "counter",
                COUNTER,
                self.reference,
                receipt_number,
                self.amount_vnd,
                capture.paid_at,
                receipt_number=receipt_number,
            )
        completed = PaymentCompleted(
            dossier_code=self.dossier_code,
            reference=self.reference,
            amount_vnd=self.amount_vnd,
            gateway_transaction=capture.transaction_id,
            paid_at=capture.paid_at,
            channel=capture.channel,
            gateway=None if capture.channel == "counter" else capture.gateway,
            method=capture.method,
            receipt_number=receipt_number,
        )
        return completed, entry

    # --- the dossier's end, and time ----------------------------------------------
    def close(self, reason: str, at: datetime) -> list[Event]:
        """The dossier was withdrawn or refused: a fee not paid is no longer asked for; a fee paid is refunded."""
        if self.requested_at is None:  # before the dossier's receipt reached us: its fee is never asked for
            self.state, self.cancelled_at, self.cancel_reason = CANCELLED, at, reason
            return []
        if self.state in PAYABLE and self.reference is not None:
            self.state, self.cancelled_at, self.cancel_reason = CANCELLED, at, reason
            self.next_open_at = self.next_query_at = None
            for order in self.orders:
                order.next_query_at = None
            return [
                PaymentCancelled(
                    dossier_code=self.dossier_code, reference=self.reference, reason=reason, cancelled_at=at
                )
            ]
        if self.state == PAID and self.captured is not None and self.cancel_reason is None:
            self.cancel_reason, self.cancelled_at = reason, at
            capture = self.captured
            self._refund(capture.gateway, capture.reference, capture.transaction_id, reason, at)
        return []

    def expire(self, at: datetime) -> list[Event]:
        """The time to pay online passed: the link stops working (a late notice is still taken)."""
        if self.state != PENDING or self.expires_at is None or at < self.expires_at or self.reference is None:
            return []
        self.state, self.expired_at = EXPIRED, at
        return [
            PaymentExpired(
                dossier_code=self.dossier_code, reference=self.reference, amount_vnd=self.amount_vnd, expired_at=at
            )
        ]

    # --- refunds ----------------------------------------------------------------
    def _refund(self, gateway: str, reference: str, transaction_id: str, reason: str, at: datetime) -> None:
        refund = Refund(
            refund_id=f"RF-{transaction_id}"[:60],
            gateway=gateway,
            reference=reference,
            transaction_id=transaction_id,
            amount_vnd=self.amount_vnd,
            reason=reason,
            state="at_counter" if gateway == COUNTER else "due",
            next_at=None if gateway == COUNTER else at,
        )
        self.refunds.append(refund)
        self._schedule_refunds()

    def refund(self, refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.refund_id == refund_id), None)

    def _entry(
        self,
        kind: str,
        channel: str,
        gateway: str,
        reference: str,
        transaction_id: str,
        amount_vnd: int,
        at: datetime,
        **details: str | None,
    ) -> LedgerEntry:
        """This payment's ledger entry for one movement of money."""
        return LedgerEntry.make(
            kind=kind,
            dossier_code=self.dossier_code,
            commune=self.commune,
            channel=channel,
            gateway=gateway,
            reference=reference,
            transaction_id=transaction_id,
            amount_vnd=amount_vnd,
            at=at,
            **details,
        )

    def refunded(self, refund_id: str, refund_transaction: str, at: datetime) -> tuple[list[Event], list[LedgerEntry]]:
        """The gateway paid the money back."""
        refund = self.refund(refund_id)
        if refund is None or refund.state != "due":
            return [], []
        refund.state, refund.refund_transaction, refund.done_at, refund.next_at = "done", refund_transaction, at, None
        self._schedule_refunds()
        entry = self._entry(
            "refund",
            "online",
            refund.gateway,
            refund.reference,
            refund.transaction_id,
            refund.amount_vnd,
            at,
            reason=refund.reason,
        )
        event = PaymentRefunded(
            dossier_code=self.dossier_code,
            reference=refund.reference,
            amount_vnd=refund.amount_vnd,
            reason=refund.reason,
            gateway=refund.gateway,
            gateway_transaction=refund.transaction_id,
            refunded_at=at,
        )
        return [event], [entry]

    def refund_failed(self, refund_id: str, problem: str, at: datetime, pause: timedelta) -> bool:
        refund = self.refund(refund_id)
        if refund is None or refund.state != "due":
            return False
        refund.attempts, refund.problem, refund.next_at = refund.attempts + 1, problem, at + pause
        self._schedule_refunds()
        return True

    def _schedule_refunds(self) -> None:
        times = [r.next_at for r in self.refunds if r.state == "due" and r.next_at is not None]
        self.next_refund_at = min(times) if times else None
