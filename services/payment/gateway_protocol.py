"""The payment gateway's protocol (cổng thanh toán): the messages payment and a gateway exchange,
as the national payment platform's integration defines them.

- INIT (payment → gateway): open a transaction for a reference; the answer names the page
  where the citizen pays. A known reference returns its transaction again (idempotent).
- callback, IPN (gateway → payment, server to server): the transaction's outcome, the only
  trusted confirmation of a payment.
- QUERY (payment → gateway): a transaction's state (success / pending / failed), to reconcile.

A signed message carries `checksum`: HMAC-SHA512 (hex) with the shared secret over the
message's canonical encoding — every other field, sorted by name, URL-encoded as
`name=value` and joined with "&" (the style of the common Vietnamese gateways). Times are
`yyyyMMddHHmmss` in Vietnam time. This module is the protocol's one definition: payment
and the development sandbox gateway (infra/gateway.py) both import it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from services.runtime.clock import LOCAL_TZ

SUCCESS = "00"
UNKNOWN_REFERENCE = "01"
UNKNOWN_PARTNER = "02"
INVALID_REQUEST = "03"
CANCELLED_BY_CITIZEN = "24"
INVALID_CHECKSUM = "97"

CURRENCY = "VND"
MAX_AMOUNT_VND = 10**15  # far above any fee; keeps amounts within what every store can hold
TIME_FORMAT = "%Y%m%d%H%M%S"
TIME_PATTERN = r"^[0-9]{14}$"  # ASCII digits only (`\d` would take any script's digits)
SIGNATURE_FIELD = "checksum"
TransactionState = Literal["success", "pending", "failed"]


def canonical(fields: Mapping[str, str | int]) -> str:
    """What is signed: the fields but the checksum, sorted by name, URL-encoded name=value joined with "&"."""
    return urlencode(sorted((name, str(value)) for name, value in fields.items() if name != SIGNATURE_FIELD))


def checksum(fields: Mapping[str, str | int], secret: str) -> str:
    """HMAC-SHA512 (hex) of the fields' canonical encoding, keyed with the shared secret."""
    return hmac.new(secret.encode(), canonical(fields).encode(), hashlib.sha512).hexdigest()


def gateway_time(at: datetime) -> str:
    """`at` as the protocol writes times: yyyyMMddHHmmss, Vietnam time."""
    return at.astimezone(LOCAL_TZ).strftime(TIME_FORMAT)


def parse_gateway_time(text: str) -> datetime:
    """A protocol time as an aware datetime; ValueError if it is not a date."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=LOCAL_TZ)


class Signed(BaseModel):
    """A message whose `checksum` covers every other field (see `canonical`)."""

    checksum: str = Field(max_length=128, description="HMAC-SHA512 hex of the other fields' canonical encoding.")

    def verify(self, secret: str) -> bool:
        """True if `checksum` was made with `secret` over these very fields (compared in constant time)."""
        return hmac.compare_digest(checksum(self.model_dump(), secret).encode(), self.checksum.encode())

    @classmethod
    def signed(cls, secret: str, **fields: Any) -> Self:
        """The message with `fields`, signed with `secret`."""
        unsigned = cls.model_validate({**fields, SIGNATURE_FIELD: ""})
        return unsigned.model_copy(update={SIGNATURE_FIELD: checksum(unsigned.model_dump(), secret)})


class InitRequest(Signed):
    """INIT: open a transaction for `reference` (payment → gateway)."""

    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    amount_vnd: int = Field(gt=0, le=MAX_AMOUNT_VND)
    currency: str = Field(default=CURRENCY, max_length=8)
    time: str = Field(pattern=TIME_PATTERN, description="When the request was sent.")


class Refusal(BaseModel):
    """The gateway's answer when it does not do what was asked: an error code and why."""

    error_code: str
    message: str = ""


class InitResponse(Refusal):
    """The gateway's answer to INIT: where the citizen pays, or (error code) why not."""

    payment_url: str | None = None


class Callback(Signed):
    """The gateway's server-to-server notification (IPN) of a transaction's outcome."""

    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    amount_vnd: int = Field(gt=0, le=MAX_AMOUNT_VND)
    currency: str = Field(default=CURRENCY, max_length=8)
    transaction_id: str = Field(min_length=1, max_length=100, description="The gateway's id of the transaction.")
    error_code: str = Field(max_length=8, description='"00" means paid.')
    time: str = Field(
        pattern=TIME_PATTERN, description="When the gateway sent this notification (each attempt is signed anew)."
    )


class QueryRequest(Signed):
    """QUERY: ask the state of the transaction opened for `reference` (payment → gateway)."""

    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    time: str = Field(pattern=TIME_PATTERN, description="When the request was sent.")


class QueryResponse(Signed):
    """QUERY's answer: the state of the transaction opened for `reference`."""

    partner_code: str
    reference: str
    amount_vnd: int
    currency: str = CURRENCY
    state: TransactionState
    transaction_id: str = Field(default="", description="Empty while the transaction is pending.")
    error_code: str = SUCCESS
    time: str = Field(pattern=TIME_PATTERN)
