"""The common Vietnamese gateways' protocol (sorted parameters, HMAC-SHA512), and payment's client of it.

- Payment page: payment builds the page's address itself: the order's parameters (`vnp_*`,
  amount in hundredths of a dong) and `vnp_SecureHash`; the citizen's browser goes there.
- Notification, IPN (gateway → payment, server to server): a GET on payment's IPN address with
  the outcome's parameters, signed the same way. Payment answers `{"RspCode", "Message"}`:
  "00" taken, "02" already taken, "01" unknown order, "04" wrong amount, "97" bad signature; the
  gateway sends the notification again until it gets "00" or "02".
- Query (`querydr`) and refund (`refund`): signed JSON posted to the gateway's API, answered
  with signed JSON.

Signature: HMAC-SHA512 (hex) keyed with the shared secret over the parameters but the hash
itself, empty ones left out, sorted by name and URL-encoded as `name=value` joined with "&"
(spaces as "+"). This module is the protocol's one definition: payment and the development
sandbox gateway (infra/gateway.py) both import it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx

from services.runtime.clock import utcnow

from . import GatewayRefused, GatewayUnavailable, Notice, NoticeState, NotificationRefused, Order
from .platform import check_time, gateway_time

NAME = "card-gateway"
LABEL = "Cổng thanh toán thẻ ngân hàng, ví điện tử"
VERSION = "2.1.0"
HASH = "vnp_SecureHash"
HASH_TYPE = "vnp_SecureHashType"
PAY_PATH = "/paymentv2/vpcpay.html"
API_PATH = "/merchant_webapi/api/transaction"
CURRENCY = "VND"
OK, ALREADY, UNKNOWN_ORDER, WRONG_AMOUNT, BAD_SIGNATURE, OTHER = "00", "02", "01", "04", "97", "99"
CANCELLED_BY_CITIZEN = "24"
TRANSACTION_STATES: dict[str, NoticeState] = {"00": "success", "01": "pending"}  # any other: failed
MAX_PARAMETERS = 40  # an IPN has about fifteen


def canonical(params: Mapping[str, str]) -> str:
    """What is signed: the non-empty parameters but the hash, sorted by name, URL-encoded, joined with "&"."""
    kept = sorted((name, value) for name, value in params.items() if name not in (HASH, HASH_TYPE) and value != "")
    return urlencode(kept, quote_via=quote_plus)


def signature(params: Mapping[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(params).encode(), hashlib.sha512).hexdigest()


def signed(params: Mapping[str, Any], secret: str) -> dict[str, str]:
    """`params` as strings, with their signature."""
    text = {name: str(value) for name, value in params.items()}
    return text | {HASH: signature(text, secret)}


def verified(params: Mapping[str, str], secret: str) -> bool:
    """Whether `params` carry the signature made with `secret` over them (compared in constant time)."""
    return hmac.compare_digest(signature(params, secret).encode(), params.get(HASH, "").encode())


def amount_param(amount_vnd: int) -> str:
    return str(amount_vnd * 100)  # the protocol counts hundredths of a dong


def state_of(response_code: str, transaction_status: str) -> NoticeState:
    if response_code == OK and transaction_status == OK:
        return "success"
    return TRANSACTION_STATES.get(transaction_status, "failed") if response_code == OK else "failed"


class SortedHmacGateway:
    """Payment's client of a gateway speaking the sorted-parameter HMAC-SHA512 protocol."""

    name, label = NAME, LABEL

    def __init__(self, client: httpx.AsyncClient, secret: str, terminal: str, public_url: str) -> None:
        self.client, self.secret, self.terminal = client, secret, terminal
        self.public_url = public_url.rstrip("/")  # the gateway's address as the citizen's browser reaches it

    async def open(self, order: Order) -> str:
        """No call: the page's signed address is the order."""
        params = {
            "vnp_Version": VERSION,
            "vnp_Command": "pay",
            "vnp_TmnCode": self.terminal,
            "vnp_Amount": amount_param(order.amount_vnd),
            "vnp_CurrCode": CURRENCY,
            "vnp_TxnRef": order.reference,
            "vnp_OrderInfo": order.description,
            "vnp_OrderType": "other",
            "vnp_Locale": "vn",
            "vnp_ReturnUrl": order.return_url,
            "vnp_IpAddr": "127.0.0.1",
            "vnp_CreateDate": gateway_time(utcnow()),
            "vnp_ExpireDate": gateway_time(order.expires_at),
        }
        return f"{self.public_url}{PAY_PATH}?{urlencode(signed(params, self.secret))}"

    async def query(self, reference: str, opened_at: datetime) -> Notice:
        now = gateway_time(utcnow())
        answer = await self._call(
            {
                "vnp_RequestId": f"Q{reference}{now}"[-32:],
                "vnp_Version": VERSION,
                "vnp_Command": "querydr",
                "vnp_TmnCode": self.terminal,
                "vnp_TxnRef": reference,
                "vnp_OrderInfo": f"Query {reference}",
                "vnp_TransactionDate": gateway_time(opened_at),
                "vnp_CreateDate": now,
                "vnp_IpAddr": "127.0.0.1",
            }
        )
        if answer.get("vnp_TxnRef") != reference:
            raise GatewayRefused(f"querydr answered for {answer.get('vnp_TxnRef')!r}")
        state = state_of(answer.get("vnp_ResponseCode", ""), answer.get("vnp_TransactionStatus", ""))
        amount, transaction = _amount(answer.get("vnp_Amount", "")), answer.get("vnp_TransactionNo", "")
        return Notice(NAME, reference, amount, state, transaction, code=answer.get("vnp_TransactionStatus", ""))

    async def refund(self, notice: Notice, refund_id: str, reason: str) -> str:
        answer = await self._call(
            {
                "vnp_RequestId": refund_id,
                "vnp_Version": VERSION,
                "vnp_Command": "refund",
                "vnp_TmnCode": self.terminal,
                "vnp_TransactionType": "02",  # whole amount
                "vnp_TxnRef": notice.reference,
                "vnp_Amount": amount_param(notice.amount_vnd),
                "vnp_TransactionNo": notice.transaction_id,
                "vnp_OrderInfo": reason,
                "vnp_CreateBy": "motcua",
                "vnp_CreateDate": gateway_time(utcnow()),
                "vnp_IpAddr": "127.0.0.1",
            }
        )
        if answer.get("vnp_ResponseCode") != OK or not answer.get("vnp_TransactionNo"):
            raise GatewayRefused(f"refund refused: {answer.get('vnp_ResponseCode')}: {answer.get('vnp_Message', '')}")
        return answer["vnp_TransactionNo"]

    def read_notification(self, params: Mapping[str, str], now: datetime, skew: timedelta) -> Notice:
        """The notification (IPN) in a GET's parameters, verified; NotificationRefused says why not.
        Its time is when the citizen paid, repeated on every attempt: only a time ahead of us is refused
        (a replayed notification changes nothing: each transaction has its effect once)."""
        reference = params.get("vnp_TxnRef")
        if len(params) > MAX_PARAMETERS or not reference or not params.get(HASH):
            raise NotificationRefused(422, "malformed", "vnp_TxnRef and vnp_SecureHash are required", reference)
        if not verified(params, self.secret):
            raise NotificationRefused(401, "checksum", "vnp_SecureHash does not match", reference)
        if params.get("vnp_TmnCode") != self.terminal:
            raise NotificationRefused(400, "partner", f"terminal {params.get('vnp_TmnCode')!r} is not ours", reference)
        if params.get("vnp_CurrCode", CURRENCY) != CURRENCY:
            raise NotificationRefused(
                400, "currency", f"currency {params.get('vnp_CurrCode')!r} is not {CURRENCY}", reference
            )
        try:
            amount = _amount(params.get("vnp_Amount", ""))
        except GatewayRefused:
            raise NotificationRefused(422, "malformed", "vnp_Amount is not an amount", reference) from None
        check_time(params.get("vnp_PayDate", ""), now, None, skew, reference)
        state = state_of(params.get("vnp_ResponseCode", ""), params.get("vnp_TransactionStatus", ""))
        transaction = params.get("vnp_TransactionNo", "")
        if state != "pending" and not transaction:
            raise NotificationRefused(422, "malformed", "vnp_TransactionNo is required", reference)
        method = "bank_transfer" if params.get("vnp_CardType") == "QRCODE" else "gateway"
        return Notice(NAME, reference, amount, state, transaction, method, params.get("vnp_ResponseCode", ""))

    @staticmethod
    def answer(result: str, status: int = 200) -> tuple[int, dict[str, str]]:
        """The protocol's acknowledgement of what a notification did (or why it was refused)."""
        codes = {
            "confirmed": (OK, "Confirm Success"),
            "not paid": (OK, "Confirm Success"),
            "recorded for refund": (OK, "Confirm Success"),
            "already confirmed": (ALREADY, "Order already confirmed"),
            "already recorded for refund": (ALREADY, "Order already confirmed"),
            "unknown": (UNKNOWN_ORDER, "Order not found"),
            "amount": (WRONG_AMOUNT, "Invalid amount"),
            "checksum": (BAD_SIGNATURE, "Invalid signature"),
        }
        code, message = codes.get(result, (OTHER, result))
        return status, {"RspCode": code, "Message": message}

    async def _call(self, params: dict[str, str]) -> dict[str, str]:
        try:
            response = await self.client.post(API_PATH, json=signed(params, self.secret))
        except httpx.TransportError as error:
            raise GatewayUnavailable(f"gateway unreachable: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise GatewayUnavailable(f"gateway answered {response.status_code}")
        try:
            answer = {str(k): str(v) for k, v in response.json().items()}
        except (ValueError, AttributeError):
            raise GatewayRefused(f"gateway answered {response.status_code} without JSON") from None
        if not verified(answer, self.secret):
            raise GatewayRefused(
                f"the gateway's answer ({answer.get('vnp_ResponseCode')}) is not signed with our secret"
            )
        if answer.get("vnp_ResponseCode") not in (OK,) and params["vnp_Command"] == "querydr":
            raise GatewayRefused(f"querydr refused: {answer.get('vnp_ResponseCode')}: {answer.get('vnp_Message', '')}")
        return answer

    async def aclose(self) -> None:
        await self.client.aclose()


def _amount(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 20 or int(text) % 100 or int(text) <= 0:
        raise GatewayRefused(f"amount {text!r} is not a whole number of dong")
    return int(text) // 100
