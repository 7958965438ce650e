"""The payment gateway's protocol (cổng thanh toán): the messages payment and a gateway exchange,
as the national payment platform's integration defines them.

- INIT (payment → gateway): open a transaction for a reference; the answer names the page
  where the citizen pays. A known reference returns its transaction again (idempotent).
- callback, IPN (gateway → payment, server to server): the transaction's outcome, the only
  trusted confirmation of a payment.
- QUERY (payment → gateway): a transaction's state (success / pending / failed), to reconcile.

A signed message carries `checksum`: SHA-256 hex of its signed fields, in the order the
message lists them, joined with "|", followed by "|" and the shared secret. Times are
`yyyyMMddHHmmss` in Vietnam time. This module is the protocol's one definition: payment
and the development sandbox gateway (infra/gateway.py) both import it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, Field

from services.runtime.clock import LOCAL_TZ

SUCCESS = "00"
UNKNOWN_REFERENCE = "01"
UNKNOWN_PARTNER = "02"
INVALID_REQUEST = "03"
CANCELLED_BY_CITIZEN = "24"
INVALID_CHECKSUM = "97"

CURRENCY = "VND"
TIME_FORMAT = "%Y%m%d%H%M%S"
TIME_PATTERN = r"^\d{14}$"
TransactionState = Literal["success", "pending", "failed"]


def checksum(fields: Sequence[str], secret: str) -> str:
    """SHA-256 hex of the pipe-joined fields followed by the shared secret."""
    return hashlib.sha256("|".join([*fields, secret]).encode()).hexdigest()


def gateway_time(at: datetime) -> str:
    """`at` as the protocol writes times: yyyyMMddHHmmss, Vietnam time."""
    return at.astimezone(LOCAL_TZ).strftime(TIME_FORMAT)


def parse_gateway_time(text: str) -> datetime:
    """A protocol time as an aware datetime; ValueError if it is not a date."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=LOCAL_TZ)


class Signed(BaseModel):
    """A message whose `checksum` covers the fields named in `SIGNED`, in that order."""

    SIGNED: ClassVar[tuple[str, ...]] = ()
    checksum: str = Field(max_length=128, description="SHA-256 hex of the signed fields and the secret.")

    def signed_fields(self) -> list[str]:
        return [str(getattr(self, name)) for name in self.SIGNED]

    def verify(self, secret: str) -> bool:
        """True if `checksum` was made with `secret` over these very fields."""
        return hmac.compare_digest(checksum(self.signed_fields(), secret).encode(), self.checksum.encode())

    @classmethod
    def signed(cls, secret: str, **fields: Any) -> Self:
        """The message with `fields`, signed with `secret`."""
        unsigned = cls.model_validate({**fields, "checksum": ""})
        return unsigned.model_copy(update={"checksum": checksum(unsigned.signed_fields(), secret)})


class InitRequest(Signed):
    """INIT: open a transaction for `reference` (payment → gateway)."""

    SIGNED = ("partner_code", "reference", "amount_vnd", "currency", "time")
    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    amount_vnd: int = Field(gt=0)
    currency: str = Field(default=CURRENCY, max_length=8)
    time: str = Field(pattern=TIME_PATTERN, description="When the request was sent.")


class InitResponse(BaseModel):
    """The gateway's answer to INIT: where the citizen pays, or why not."""

    error_code: str
    message: str = ""
    payment_url: str | None = None


class Callback(Signed):
    """The gateway's server-to-server notification (IPN) of a transaction's outcome."""

    SIGNED = ("partner_code", "reference", "amount_vnd", "currency", "transaction_id", "error_code", "time")
    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    amount_vnd: int = Field(gt=0)
    currency: str = Field(default=CURRENCY, max_length=8)
    transaction_id: str = Field(min_length=1, max_length=100)
    error_code: str = Field(max_length=8, description='"00" means paid.')
    time: str = Field(pattern=TIME_PATTERN, description="When the gateway sent this notification.")


class QueryResponse(Signed):
    """QUERY's answer: the state of the transaction opened for `reference`."""

    SIGNED = ("partner_code", "reference", "amount_vnd", "currency", "state", "transaction_id", "error_code", "time")
    partner_code: str
    reference: str
    amount_vnd: int
    currency: str = CURRENCY
    state: TransactionState
    transaction_id: str = Field(default="", description="Empty while the transaction is pending.")
    error_code: str = SUCCESS
    time: str = Field(pattern=TIME_PATTERN)
