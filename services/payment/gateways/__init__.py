"""Payment gateways (cổng thanh toán) behind one interface.

Two protocols are spoken:

- `platform`: the national payment platform's style (Nền tảng thanh toán quốc gia): JSON
  messages INIT / notification / QUERY / REFUND, each with a SHA-256 checksum over its
  pipe-joined fields and the shared secret; error code "00" means done.
- `sorted_hmac`: the common Vietnamese gateways' style: the payment page's address is
  built and signed by us (HMAC-SHA512 over the sorted, URL-encoded parameters), the outcome
  comes as a server-to-server notification (IPN) on a GET with the same signature, and a
  query and a refund API answer signed JSON.

Whatever the protocol, the gateway's signed notification (or our own signed query's answer)
is the only confirmation of a payment that payment takes; the browser's return to our page
proves nothing. Each gateway turns its messages into a `Notice`; payment's rules (domain.py)
never see a protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

NoticeState = Literal["success", "pending", "failed"]
Method = Literal["gateway", "bank_transfer"]


@dataclass(frozen=True)
class Notice:
    """What a gateway said, verified, about the transaction of one of our orders."""

    gateway: str
    reference: str  # our order's reference
    amount_vnd: int
    state: NoticeState
    transaction_id: str  # empty while pending
    method: Method = "gateway"
    code: str = ""  # the gateway's own result code, for the record


@dataclass(frozen=True)
class Order:
    """What a gateway needs to open a payment: our reference, the amount, what it is for, until when."""

    reference: str
    amount_vnd: int
    description: str  # ASCII, short: gateways show it and some strip anything else
    expires_at: datetime
    return_url: str  # where the citizen's browser comes back to (the payment page)


class GatewayUnavailable(Exception):
    """The gateway could not be reached or failed (a timeout, a 5xx answer): try again later."""


class GatewayRefused(Exception):
    """The gateway answered, and said no (bad request, unknown reference, refund refused)."""


class NotificationRefused(Exception):
    """A notification payment does not take: `status` for the HTTP answer, `reason` for metrics."""

    def __init__(self, status: int, reason: str, detail: str, reference: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail, self.reference = status, reason, detail, reference


class Gateway(Protocol):
    """One gateway, as payment uses it."""

    name: str  # how events, the ledger and statements name it
    label: str  # how the payment page names it to the citizen (Vietnamese)

    async def open(self, order: Order) -> str:
        """Open `order` at the gateway; the address of the page where the citizen pays."""
        ...

    async def query(self, reference: str, opened_at: datetime) -> Notice:
        """The current state of the transaction opened for `reference` (signed answer, verified)."""
        ...

    async def refund(self, notice: Notice, refund_id: str, reason: str) -> str:
        """Pay `notice`'s amount back; the gateway's id of the refund."""
        ...

    async def aclose(self) -> None: ...
