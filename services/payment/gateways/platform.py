"""The national payment platform's protocol (Nền tảng thanh toán quốc gia): the messages payment
and the platform exchange, and payment's client of it.

- INIT (payment → platform): open a transaction for a reference; the answer names the page
  where the citizen pays. A known reference returns its transaction again (idempotent).
- notification, IPN (platform → payment, server to server, JSON POST): the transaction's
  outcome, the only trusted confirmation of a payment.
- QUERY (payment → platform): a transaction's state (success / pending / failed).
- REFUND (payment → platform): pay a successful transaction back.

A signed message carries `checksum`: SHA-256 (hex) of its other fields' values in the order the
message declares them, joined with "|", followed by "|" and the shared secret. Times are
`yyyyMMddHHmmss` in Vietnam time. This module is the protocol's one definition: payment and the
development sandbox gateway (infra/gateway.py) both import it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, Field, ValidationError, model_validator

from services.runtime.clock import LOCAL_TZ, utcnow

from . import GatewayRefused, GatewayUnavailable, Notice, NoticeState, NotificationRefused, Order

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
SEPARATOR = "|"
TransactionState = Literal["success", "pending", "failed"]


def canonical(fields: Mapping[str, str | int]) -> str:
    """What is hashed, but the secret: the values but the checksum, in the message's order, joined with "|"."""
    return SEPARATOR.join(str(value) for name, value in fields.items() if name != SIGNATURE_FIELD)


def checksum(fields: Mapping[str, str | int], secret: str) -> str:
    """SHA-256 (hex) of the fields' canonical encoding, "|" and the shared secret."""
    return hashlib.sha256(f"{canonical(fields)}{SEPARATOR}{secret}".encode()).hexdigest()


def gateway_time(at: datetime) -> str:
    """`at` as the protocol writes times: yyyyMMddHHmmss, Vietnam time."""
    return at.astimezone(LOCAL_TZ).strftime(TIME_FORMAT)


def parse_gateway_time(text: str) -> datetime:
    """A protocol time as an aware datetime; ValueError if it is not a date."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=LOCAL_TZ)


class Signed(BaseModel):
    """A message whose `checksum` covers every other field (see `canonical`)."""

    checksum: str = Field(
        max_length=128, description="SHA-256 hex of the other fields' values joined with | and the secret."
    )

    @model_validator(mode="after")
    def _no_separator_in_values(self) -> Self:
        """A value holding "|" could pass for two fields (or two for one) and the same checksum sign
        another message: such a message is refused."""
        for name, value in self:
            if isinstance(value, str) and SEPARATOR in value:
                raise ValueError(f"{name} holds {SEPARATOR!r}, which separates the fields the checksum covers")
        return self

    def verify(self, secret: str) -> bool:
        """True if `checksum` was made with `secret` over these very fields (compared in constant time)."""
        return hmac.compare_digest(checksum(self.model_dump(), secret).encode(), self.checksum.encode())

    @classmethod
    def signed(cls, secret: str, **fields: Any) -> Self:
        """The message with `fields`, signed with `secret`."""
        unsigned = cls.model_validate({**fields, SIGNATURE_FIELD: ""})
        return unsigned.model_copy(update={SIGNATURE_FIELD: checksum(unsigned.model_dump(), secret)})


SignedT = TypeVar("SignedT", bound=Signed)


class InitRequest(Signed):
    """INIT: open a transaction for `reference` (payment → gateway)."""

    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    amount_vnd: int = Field(gt=0, le=MAX_AMOUNT_VND)
    currency: str = Field(default=CURRENCY, max_length=8)
    description: str = Field(default="", max_length=255, description="What is paid for (the receipt lines), ASCII.")
    expire_time: str = Field(
        default="", description="Until when it can be paid (yyyyMMddHHmmss); empty: the gateway's rule."
    )
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


class RefundRequest(Signed):
    """REFUND: pay a successful transaction back, whole (payment → gateway). Idempotent by `refund_id`."""

    partner_code: str = Field(max_length=64)
    reference: str = Field(min_length=1, max_length=100)
    transaction_id: str = Field(min_length=1, max_length=100, description="The transaction to pay back.")
    amount_vnd: int = Field(gt=0, le=MAX_AMOUNT_VND)
    refund_id: str = Field(min_length=1, max_length=100, description="Our id of the refund: the same id, one refund.")
    reason: str = Field(default="", max_length=255)
    time: str = Field(pattern=TIME_PATTERN)


class RefundResponse(Signed):
    """REFUND's answer: the refund's own transaction id, or (error code) why not."""

    partner_code: str
    refund_id: str
    refund_transaction_id: str = ""
    amount_vnd: int
    error_code: str
    message: str = ""
    time: str = Field(pattern=TIME_PATTERN)


NAME = "payment-platform"
LABEL = "Nền tảng thanh toán quốc gia"
STATES: dict[str, NoticeState] = {"success": "success", "pending": "pending", "failed": "failed"}


class PlatformGateway:
    """Payment's client of a gateway speaking the national payment platform's protocol."""

    name, label = NAME, LABEL

    def __init__(self, client: httpx.AsyncClient, secret: str, partner_code: str) -> None:
        self.client, self.secret, self.partner_code = client, secret, partner_code

    async def open(self, order: Order) -> str:
        request = InitRequest.signed(
            self.secret,
            partner_code=self.partner_code,
            reference=order.reference,
            amount_vnd=order.amount_vnd,
            currency=CURRENCY,
            description=order.description,
            expire_time=gateway_time(order.expires_at),
            time=gateway_time(utcnow()),
        )
        answer = InitResponse.model_validate_json(await self._post("/init", request))
        if answer.error_code != SUCCESS or not answer.payment_url:
            raise GatewayRefused(f"INIT refused: error {answer.error_code}: {answer.message}")
        return answer.payment_url

    async def query(self, reference: str, opened_at: datetime) -> Notice:
        request = QueryRequest.signed(
            self.secret, partner_code=self.partner_code, reference=reference, time=gateway_time(utcnow())
        )
        answer = self._signed(QueryResponse, await self._post("/query", request))
        if answer.reference != reference or answer.partner_code != self.partner_code:
            raise GatewayRefused(f"QUERY answered for {answer.reference!r} of {answer.partner_code!r}")
        return Notice(
            NAME, reference, answer.amount_vnd, STATES[answer.state], answer.transaction_id, code=answer.error_code
        )

    async def refund(self, notice: Notice, refund_id: str, reason: str) -> str:
        request = RefundRequest.signed(
            self.secret,
            partner_code=self.partner_code,
            reference=notice.reference,
            transaction_id=notice.transaction_id,
            amount_vnd=notice.amount_vnd,
            refund_id=refund_id,
            reason=reason,
            time=gateway_time(utcnow()),
        )
        answer = self._signed(RefundResponse, await self._post("/refund", request))
        if answer.error_code != SUCCESS or not answer.refund_transaction_id or answer.refund_id != refund_id:
            raise GatewayRefused(f"REFUND refused: error {answer.error_code}: {answer.message}")
        return answer.refund_transaction_id

    def read_notification(self, body: bytes, now: datetime, max_age: timedelta, skew: timedelta) -> Notice:
        """The notification (IPN) in a JSON body, verified; NotificationRefused says why not."""
        try:
            callback = Callback.model_validate_json(body)
        except ValidationError as error:  # the values sent are left out: they may not even be JSON
            problems = error.errors(include_url=False, include_context=False, include_input=False)
            raise NotificationRefused(422, "malformed", str(problems)) from None
        reference = callback.reference
        if not callback.verify(self.secret):
            raise NotificationRefused(401, "checksum", "checksum does not match", reference)
        if callback.partner_code != self.partner_code:
            raise NotificationRefused(400, "partner", f"partner code {callback.partner_code!r} is not ours", reference)
        if callback.currency != CURRENCY:
            raise NotificationRefused(400, "currency", f"currency {callback.currency!r} is not {CURRENCY}", reference)
        check_time(callback.time, now, max_age, skew, reference)
        state: NoticeState = "success" if callback.error_code == SUCCESS else "failed"
        return Notice(NAME, reference, callback.amount_vnd, state, callback.transaction_id, code=callback.error_code)

    @staticmethod
    def answer(result: str, status: int = 200) -> tuple[int, dict[str, str]]:
        """What the platform is answered: 2xx with what the notification did, or 4xx with why not."""
        return status, {"result": result}

    async def _post(self, path: str, message: BaseModel) -> bytes:
        try:
            response = await self.client.post(path, json=message.model_dump())
        except httpx.TransportError as error:
            raise GatewayUnavailable(f"gateway unreachable: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise GatewayUnavailable(f"gateway answered {response.status_code}")
        if response.status_code >= 400:
            try:
                refusal = Refusal.model_validate_json(response.content)
            except ValidationError:
                raise GatewayRefused(f"gateway answered {response.status_code}") from None
            raise GatewayRefused(f"gateway error {refusal.error_code}: {refusal.message}")
        return response.content

    def _signed(self, model: type[SignedT], content: bytes) -> SignedT:
        try:
            answer = model.model_validate_json(content)
        except ValidationError:
            raise GatewayRefused(f"gateway answered without a {model.__name__}") from None
        if not answer.verify(self.secret):
            raise GatewayRefused(f"the gateway's {model.__name__} checksum does not match")
        return answer

    async def aclose(self) -> None:
        await self.client.aclose()


def check_time(sent: str, now: datetime, max_age: timedelta | None, skew: timedelta, reference: str) -> None:
    """Refuse a notification sent (by its own time) longer than `max_age` ago, or ahead of us by more than `skew`."""
    try:
        at = parse_gateway_time(sent)
    except ValueError:
        raise NotificationRefused(400, "time", f"time {sent!r} is not a date", reference) from None
    if max_age is not None and now - at > max_age:
        raise NotificationRefused(400, "time", f"time {sent!r} is older than {max_age.total_seconds():.0f}s", reference)
    if at - now > skew:
        detail = f"time {sent!r} is more than {skew.total_seconds():.0f}s in the future"
        raise NotificationRefused(400, "time", detail, reference)
