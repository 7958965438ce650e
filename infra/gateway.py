"""The sandbox payment gateway: an outside party, played in development by its own process.

It speaks both of payment's protocols, as the real gateways do:

- the national payment platform's (services/payment/gateways/platform.py): payment opens a
  transaction with INIT; the citizen pays on `/pay/{reference}`; the platform notifies payment
  with a signed JSON POST, again with backoff until payment answers 2xx (a 4xx is logged and not
  sent again); QUERY, REFUND; a bank transfer to the collecting account (the VietQR code) whose
  purpose is a dossier code is settled as that dossier's platform transaction;
- the card and wallet gateway's (services/payment/gateways/sorted_hmac.py): the citizen's
  browser arrives on `/paymentv2/vpcpay.html` with payment's signed parameters; the gateway
  notifies with a signed GET and sends it again until it reads RspCode "00" or "02";
  `querydr` and `refund` on `/merchant_webapi/api/transaction`.

It behaves like a real one, good and bad, by the outcome the citizen (or a test) picks on the
payment page or on `POST /sandbox/{protocol}/{reference}?outcome=`:
`success`, `failed` (declined by the bank), `cancel` (the citizen gives up), `late` (pending
for a while, then paid and notified late), `duplicate` (the notification sent twice at once
and once more later), `tampered` (a notification whose amount was changed after signing).
Each day's statement (CSV, the format reconciliation reads) is on `GET /statements/{protocol}?day=`.
Transactions are kept in memory: development only.

Environment:
    MOTCUA_HTTP_PORT              port on 127.0.0.1 (default 8010)
    MOTCUA_GATEWAY_URL            its own public URL, the start of payment pages' addresses
    MOTCUA_GATEWAY_SECRET         the platform protocol's secret (default: payment's development value)
    MOTCUA_GATEWAY_HMAC_SECRET    the card gateway's hash secret (default: payment's development value)
    MOTCUA_GATEWAY_PARTNER_CODE   the partner / terminal code it accepts (default MOTCUA)
    MOTCUA_GATEWAY_IPN_URL        payment's platform notification address
    MOTCUA_GATEWAY_CARD_IPN_URL   payment's card notification address
    MOTCUA_GATEWAY_PAY_AFTER_S    how long the sandbox citizen takes to pay a platform transaction
                                  (default 1; negative: never by itself, only from the page)
    MOTCUA_GATEWAY_LATE_S         how long a `late` transaction stays pending (default 5)
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import html
import io
import itertools
import logging
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

from services.payment.gateways import platform as pf
from services.payment.gateways import sorted_hmac as card
from services.payment.settings import DEVELOPMENT_GATEWAY_SECRET, DEVELOPMENT_HMAC_SECRET, DEVELOPMENT_PARTNER_CODE
from services.runtime.clock import LOCAL_TZ
from services.runtime.retry import backoff

log = logging.getLogger("infra.gateway")
DEFAULT_PORT = 8010
DEFAULT_IPN_URL = "http://127.0.0.1:8003/payments/ipn"
DEFAULT_CARD_IPN_URL = "http://127.0.0.1:8003/payments/ipn/card"
DEFAULT_PAY_AFTER_S = 1.0
IPN_RETRY_S = 0.5  # first pause before sending a notification again; it doubles, up to the runtime's cap
IPN_TIMEOUT_S = 10.0
Protocol = Literal["platform", "card"]
Outcome = Literal["success", "failed", "cancel", "late", "duplicate", "tampered"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failed", "cancel", "late", "duplicate", "tampered")


@dataclass(frozen=True)
class GatewayConfig:
    url: str  # its own public URL
    secret: str
    ipn_url: str
    hmac_secret: str = DEVELOPMENT_HMAC_SECRET
    card_ipn_url: str = DEFAULT_CARD_IPN_URL
    partner_code: str = DEVELOPMENT_PARTNER_CODE
    pay_after_s: float | None = DEFAULT_PAY_AFTER_S  # None: the sandbox citizen never pays by itself
    late_s: float = 5.0
    ipn_retry_s: float = IPN_RETRY_S

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> GatewayConfig:
        port = int(environ.get("MOTCUA_HTTP_PORT", DEFAULT_PORT))
        pay_after = float(environ.get("MOTCUA_GATEWAY_PAY_AFTER_S", DEFAULT_PAY_AFTER_S))
        return cls(
            url=environ.get("MOTCUA_GATEWAY_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            secret=environ.get("MOTCUA_GATEWAY_SECRET", DEVELOPMENT_GATEWAY_SECRET),
            hmac_secret=environ.get("MOTCUA_GATEWAY_HMAC_SECRET", DEVELOPMENT_HMAC_SECRET),
            ipn_url=environ.get("MOTCUA_GATEWAY_IPN_URL", DEFAULT_IPN_URL),
            card_ipn_url=environ.get("MOTCUA_GATEWAY_CARD_IPN_URL", DEFAULT_CARD_IPN_URL),
            partner_code=environ.get("MOTCUA_GATEWAY_PARTNER_CODE", DEVELOPMENT_PARTNER_CODE),
            pay_after_s=pay_after if pay_after >= 0 else None,
            late_s=float(environ.get("MOTCUA_GATEWAY_LATE_S", 5.0)),
        )


@dataclass
class Transaction:
    protocol: Protocol
    reference: str
    amount_vnd: int
    opened_at: datetime
    state: pf.TransactionState = "pending"
    transaction_id: str = ""  # given when the citizen pays or declines
    method: str = "gateway"
    code: str = ""  # the outcome's code: "00" paid, "24" cancelled, "51" declined
    settled_at: datetime | None = None
    return_url: str = ""
    notifications: list[str] = field(default_factory=list)  # what payment answered each one
    refunds: dict[str, str] = field(default_factory=dict)  # refund id → refund transaction id
    refunded_at: dict[str, datetime] = field(default_factory=dict)


class Gateway:
    """The sandbox's transactions and its messages to payment; `async with` it while it serves."""

    def __init__(self, config: GatewayConfig, ipn_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.transactions: dict[tuple[Protocol, str], Transaction] = {}
        self._transport = ipn_transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Gateway:
        self._client = httpx.AsyncClient(transport=self._transport, timeout=IPN_TIMEOUT_S)
        return self

    async def __aexit__(self, *exc: object) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def get(self, protocol: Protocol, reference: str) -> Transaction | None:
        return self.transactions.get((protocol, reference))

    def payment_url(self, reference: str) -> str:
        return f"{self.config.url}/pay/{quote(reference, safe='')}"

    # --- the platform's protocol ---------------------------------------------------------
    def init(self, request: pf.InitRequest) -> pf.InitResponse:
        """INIT: open a transaction (or return the one already opened for this reference)."""
        if not request.verify(self.config.secret):
            return pf.InitResponse(error_code=pf.INVALID_CHECKSUM, message="invalid checksum")
        if request.partner_code != self.config.partner_code:
            return pf.InitResponse(error_code=pf.UNKNOWN_PARTNER, message="unknown partner code")
        if request.currency != pf.CURRENCY:
            return pf.InitResponse(error_code=pf.INVALID_REQUEST, message=f"only {pf.CURRENCY} is accepted")
        known = self.get("platform", request.reference)
        if known is None:
            known = Transaction("platform", request.reference, request.amount_vnd, datetime.now(UTC))
            self.transactions["platform", request.reference] = known
            if self.config.pay_after_s is not None:
                self._spawn(self._sandbox_citizen(known, self.config.pay_after_s))
        elif known.amount_vnd != request.amount_vnd:
            return pf.InitResponse(
                error_code=pf.INVALID_REQUEST, message="reference already opened with another amount"
            )
        return pf.InitResponse(error_code=pf.SUCCESS, payment_url=self.payment_url(request.reference))

    def query(self, request: pf.QueryRequest) -> pf.QueryResponse | pf.Refusal:
        """QUERY: the transaction's state, signed; or why not."""
        if not request.verify(self.config.secret):
            return pf.Refusal(error_code=pf.INVALID_CHECKSUM, message="invalid checksum")
        if request.partner_code != self.config.partner_code:
            return pf.Refusal(error_code=pf.UNKNOWN_PARTNER, message="unknown partner code")
        transaction = self.get("platform", request.reference)
        if transaction is None:
            return pf.Refusal(error_code=pf.UNKNOWN_REFERENCE, message="unknown reference")
        return pf.QueryResponse.signed(
            self.config.secret,
            partner_code=self.config.partner_code,
            reference=request.reference,
            amount_vnd=transaction.amount_vnd,
            currency=pf.CURRENCY,
            state=transaction.state,
            transaction_id=transaction.transaction_id,
            error_code=pf.SUCCESS,
            time=pf.gateway_time(datetime.now(UTC)),
        )

    def refund_platform(self, request: pf.RefundRequest) -> pf.RefundResponse | pf.Refusal:
        """REFUND: pay a successful transaction back, once per refund id."""
        if not request.verify(self.config.secret):
            return pf.Refusal(error_code=pf.INVALID_CHECKSUM, message="invalid checksum")
        if request.partner_code != self.config.partner_code:
            return pf.Refusal(error_code=pf.UNKNOWN_PARTNER, message="unknown partner code")
        transaction = self.get("platform", request.reference)
        problem = self._refund_problem(transaction, request.transaction_id, request.amount_vnd)
        refund = "" if problem or transaction is None else self._refund(transaction, request.refund_id)
        return pf.RefundResponse.signed(
            self.config.secret,
            partner_code=self.config.partner_code,
            refund_id=request.refund_id,
            refund_transaction_id=refund,
            amount_vnd=request.amount_vnd,
            error_code=pf.INVALID_REQUEST if problem else pf.SUCCESS,
            message=problem,
            time=pf.gateway_time(datetime.now(UTC)),
        )

    def transfer(self, purpose: str, amount_vnd: int) -> Transaction | None:
        """A bank transfer to the collecting account (the VietQR code): its purpose is a dossier code."""
        transaction = self.get("platform", f"PAY-{purpose}")
        if transaction is None or transaction.state != "pending" or transaction.amount_vnd != amount_vnd:
            return None
        transaction.method = "bank_transfer"
        return self.settle("platform", transaction.reference, "success")

    # --- the card gateway's protocol ---------------------------------------------------------
    def card_open(self, params: Mapping[str, str]) -> tuple[Transaction | None, str]:
        """The citizen's browser arrives with payment's signed order: the transaction, or why not."""
        if not card.verified(params, self.config.hmac_secret):
            return None, "Sai chữ ký (vnp_SecureHash)"
        if params.get("vnp_TmnCode") != self.config.partner_code:
            return None, "Mã website (vnp_TmnCode) không đúng"
        reference, amount = params.get("vnp_TxnRef", ""), params.get("vnp_Amount", "")
        if not reference or not amount.isdigit() or int(amount) % 100:
            return None, "Thiếu mã giao dịch hoặc số tiền không hợp lệ"
        expires = params.get("vnp_ExpireDate", "")
        if expires and pf.parse_gateway_time(expires) < datetime.now(UTC):
            return None, "Giao dịch đã quá thời gian chờ thanh toán"
        known = self.get("card", reference)
        if known is None:
            known = Transaction(
                "card", reference, int(amount) // 100, datetime.now(UTC), return_url=params.get("vnp_ReturnUrl", "")
            )
            self.transactions["card", reference] = known
        elif known.amount_vnd != int(amount) // 100:
            return None, "Mã giao dịch đã dùng với số tiền khác"
        return known, ""

    def card_api(self, params: Mapping[str, str]) -> dict[str, str]:
        """querydr and refund, signed answers."""
        command, reference = params.get("vnp_Command", ""), params.get("vnp_TxnRef", "")
        answer = {
            "vnp_ResponseId": secrets.token_hex(8),
            "vnp_Command": command,
            "vnp_TmnCode": self.config.partner_code,
            "vnp_TxnRef": reference,
        }
        transaction = self.get("card", reference)
        if not card.verified(params, self.config.hmac_secret):
            return card.signed(
                answer | {"vnp_ResponseCode": card.BAD_SIGNATURE, "vnp_Message": "Invalid checksum"},
                self.config.hmac_secret,
            )
        if params.get("vnp_TmnCode") != self.config.partner_code or transaction is None:
            return card.signed(
                answer | {"vnp_ResponseCode": "91", "vnp_Message": "Transaction not found"}, self.config.hmac_secret
            )
        if command == "querydr":
            status = {"success": "00", "pending": "01", "failed": "02"}[transaction.state]
            answer |= {
                "vnp_ResponseCode": card.OK,
                "vnp_Message": "QueryDR Success",
                "vnp_Amount": card.amount_param(transaction.amount_vnd),
                "vnp_TransactionNo": transaction.transaction_id,
                "vnp_TransactionStatus": status,
            }
        elif command == "refund":
            amount = params.get("vnp_Amount", "")
            amount_vnd = int(amount) // 100 if amount.isdigit() else -1
            problem = self._refund_problem(transaction, params.get("vnp_TransactionNo", ""), amount_vnd)
            if problem:
                answer |= {"vnp_ResponseCode": "94", "vnp_Message": problem}
            else:
                refund = self._refund(transaction, params.get("vnp_RequestId", ""))
                answer |= {"vnp_ResponseCode": card.OK, "vnp_Message": "Refund success", "vnp_TransactionNo": refund}
        else:
            answer |= {"vnp_ResponseCode": "99", "vnp_Message": f"unknown command {command!r}"}
        return card.signed(answer, self.config.hmac_secret)

    # --- outcomes, notifications -------------------------------------------------------
    def settle(self, protocol: Protocol, reference: str, outcome: Outcome = "success") -> Transaction | None:
        """The citizen pays, declines or gives up (or a test says how it goes); payment is then told."""
        transaction = self.get(protocol, reference)
        if transaction is None or transaction.state != "pending" or transaction.transaction_id:
            return transaction
        transaction.transaction_id = f"SBX{next(_numbers):08d}"
        if outcome == "late":
            self._spawn(self._late(transaction))
            return transaction
        transaction.state = "success" if outcome in ("success", "duplicate", "tampered") else "failed"
        transaction.code = {"failed": "51", "cancel": "24"}.get(outcome, "00")
        transaction.settled_at = datetime.now(UTC)
        self._spawn(self._notify(transaction, tamper=outcome == "tampered"))
        if outcome == "duplicate":
            self._spawn(self._notify(transaction))
            self._spawn(self._notify(transaction, after_s=1.0))
        return transaction

    def notification(self, transaction: Transaction, tamper: bool = False) -> dict[str, Any]:
        """The signed notification of a settled transaction, in its protocol (amount changed after signing if `tamper`)."""
        now = datetime.now(UTC)
        if transaction.protocol == "platform":
            message = pf.Callback.signed(
                self.config.secret,
                partner_code=self.config.partner_code,
                reference=transaction.reference,
                amount_vnd=transaction.amount_vnd,
                currency=pf.CURRENCY,
                transaction_id=transaction.transaction_id,
                error_code=transaction.code,
                time=pf.gateway_time(now),
            ).model_dump()
            return message | ({"amount_vnd": transaction.amount_vnd * 10} if tamper else {})
        params = card.signed(
            {
                "vnp_TmnCode": self.config.partner_code,
                "vnp_Amount": card.amount_param(transaction.amount_vnd),
                "vnp_CurrCode": card.CURRENCY,
                "vnp_BankCode": "NCB",
                "vnp_CardType": "QRCODE" if transaction.method == "bank_transfer" else "ATM",
                "vnp_OrderInfo": f"Thanh toan {transaction.reference}",
                "vnp_PayDate": pf.gateway_time(transaction.settled_at or now),
                "vnp_ResponseCode": transaction.code,
                "vnp_TransactionNo": transaction.transaction_id,
                "vnp_TransactionStatus": "00" if transaction.state == "success" else "02",
                "vnp_TxnRef": transaction.reference,
            },
            self.config.hmac_secret,
        )
        return params | ({"vnp_Amount": card.amount_param(transaction.amount_vnd * 10)} if tamper else {})

    def statement(self, protocol: Protocol, day: date) -> str:
        """The day's statement (Vietnam time): every settled transaction and refund, as reconciliation reads it."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["transaction_id", "reference", "type", "amount_vnd", "status", "settled_at"])
        for transaction in self.transactions.values():
            if transaction.protocol != protocol:
                continue
            settled = transaction.settled_at
            if settled is not None and settled.astimezone(LOCAL_TZ).date() == day:
                writer.writerow(
                    [
                        transaction.transaction_id,
                        transaction.reference,
                        "payment",
                        transaction.amount_vnd,
                        transaction.state,
                        settled.astimezone(LOCAL_TZ).isoformat(),
                    ]
                )
            for refund_id, at in transaction.refunded_at.items():
                if at.astimezone(LOCAL_TZ).date() == day and refund_id in transaction.refunds:
                    writer.writerow(
                        [
                            transaction.transaction_id,
                            transaction.reference,
                            "refund",
                            transaction.amount_vnd,
                            "success",
                            at.astimezone(LOCAL_TZ).isoformat(),
                        ]
                    )
        return out.getvalue()

    def _refund_problem(self, transaction: Transaction | None, transaction_id: str, amount_vnd: int) -> str:
        if transaction is None or transaction.state != "success" or transaction.transaction_id != transaction_id:
            return "no successful transaction with this id"
        if amount_vnd != transaction.amount_vnd:
            return "only whole refunds are taken here"
        return ""

    def _refund(self, transaction: Transaction, refund_id: str) -> str:
        if refund_id not in transaction.refunds:
            if transaction.refunds:  # another refund id for a transaction paid back already
                return next(iter(transaction.refunds.values()))
            transaction.refunds[refund_id] = f"RFD{next(_numbers):08d}"
            transaction.refunded_at[refund_id] = datetime.now(UTC)
        return transaction.refunds[refund_id]

    async def _sandbox_citizen(self, transaction: Transaction, after_s: float) -> None:
        await asyncio.sleep(after_s)
        self.settle(transaction.protocol, transaction.reference)

    async def _late(self, transaction: Transaction) -> None:
        await asyncio.sleep(self.config.late_s)
        transaction.state, transaction.code, transaction.settled_at = "success", "00", datetime.now(UTC)
        await self._notify(transaction)

    async def _notify(self, transaction: Transaction, tamper: bool = False, after_s: float = 0.0) -> None:
        """Send the outcome to payment until it takes it (2xx; for the card protocol RspCode 00 or 02) or refuses it (4xx)."""
        if self._client is None:
            raise RuntimeError("the gateway has not started (use `async with gateway`)")
        await asyncio.sleep(after_s)
        for attempt in itertools.count(1):
            message = self.notification(transaction, tamper)  # signed anew each time
            try:
                if transaction.protocol == "platform":
                    response = await self._client.post(self.config.ipn_url, json=message)
                else:
                    response = await self._client.get(f"{self.config.card_ipn_url}?{urlencode(message)}")
            except httpx.HTTPError as error:
                problem = type(error).__name__
            else:
                if response.is_success and not self._acknowledged(transaction, response):
                    problem = f"HTTP {response.status_code}, not acknowledged: {response.text[:100]}"
                elif response.is_success or response.is_client_error:
                    transaction.notifications.append(f"{response.status_code} {response.text[:200]}")
                    if response.is_client_error:
                        log.error(
                            "payment refused the notification of %s (HTTP %s); not sent again",
                            transaction.reference,
                            response.status_code,
                        )
                    return
                else:
                    problem = f"HTTP {response.status_code}"
            pause = backoff(attempt, self.config.ipn_retry_s)
            log.warning("notification of %s not delivered (%s); again in %.1fs", transaction.reference, problem, pause)
            await asyncio.sleep(pause)

    @staticmethod
    def _acknowledged(transaction: Transaction, response: httpx.Response) -> bool:
        """A 2xx answer takes a platform notification; a card notification only with RspCode 00 or 02."""
        if transaction.protocol == "platform":
            return True
        try:
            answer = response.json()
        except ValueError:
            return False
        return isinstance(answer, dict) and answer.get("RspCode") in (card.OK, card.ALREADY)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_numbers = itertools.count(secrets.randbelow(10**6) * 100)
STATES_VI = {"pending": "Chờ thanh toán", "success": "Đã thanh toán", "failed": "Không thành công"}
BUTTONS = {
    "success": "Thanh toán",
    "failed": "Thẻ bị từ chối",
    "cancel": "Hủy giao dịch",
    "late": "Thanh toán (báo kết quả chậm)",
    "duplicate": "Thanh toán (báo kết quả trùng lặp)",
    "tampered": "Thanh toán (báo kết quả bị sửa)",
}


def page(transaction: Transaction | None, reference: str, action: str, problem: str = "") -> str:
    """The payment page (Vietnamese): amount, state and, while pending, a button per outcome."""
    body = f"<p>{html.escape(problem or 'Không tìm thấy giao dịch')} <b>{html.escape(reference)}</b>.</p>"
    if transaction is not None and not problem:
        buttons = "".join(
            f'<form method="post" action="{html.escape(action)}?outcome={o}"><button>{BUTTONS[o]}</button></form>'
            for o in OUTCOMES
        )
        amount = f"{transaction.amount_vnd:,}".replace(",", ".")  # 1.250.000 ₫, as Vietnamese write it
        body = (
            f"<p>Mã thanh toán: <b>{html.escape(reference)}</b></p><p>Số tiền: <b>{amount} ₫</b></p>"
            f"<p>Trạng thái: {STATES_VI[transaction.state]}</p>{buttons if transaction.state == 'pending' else ''}"
        )
    return (
        '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng thanh toán thử nghiệm</title>'
        "<h1>Cổng thanh toán thử nghiệm</h1><p><i>Môi trường phát triển: không có tiền thật.</i></p>"
        f"{body}</html>"
    )


def create_app(gateway: Gateway) -> FastAPI:
    """The gateway's HTTP app; serving it runs `gateway` (its notifications and sandbox citizen)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with gateway:
            yield

    app = FastAPI(title="motcua sandbox payment gateway (development only)", version="0.2.0", lifespan=lifespan)

    def answer(message: Any) -> Any:
        if isinstance(message, pf.Refusal) and not isinstance(message, pf.InitResponse):
            status = 404 if message.error_code == pf.UNKNOWN_REFERENCE else 400
            return JSONResponse(message.model_dump(), status_code=status)
        return message

    @app.post("/init", tags=["platform"])
    async def init(request: pf.InitRequest) -> pf.InitResponse:
        """INIT: open a transaction; the answer names the page where the citizen pays."""
        return gateway.init(request)

    @app.post("/query", tags=["platform"], response_model=None)
    async def query(request: pf.QueryRequest) -> Any:
        """QUERY: the transaction's state (success / pending / failed), signed."""
        return answer(gateway.query(request))

    @app.post("/refund", tags=["platform"], response_model=None)
    async def refund(request: pf.RefundRequest) -> Any:
        """REFUND: pay a successful transaction back, whole; the same refund id, one refund."""
        return answer(gateway.refund_platform(request))

    @app.get("/pay/{reference}", tags=["platform"], response_class=HTMLResponse)
    async def platform_page(reference: str) -> HTMLResponse:
        """The page where the citizen pays (or not)."""
        transaction = gateway.get("platform", reference)
        return HTMLResponse(
            page(transaction, reference, f"/pay/{quote(reference, safe='')}"), 200 if transaction else 404
        )

    @app.post("/pay/{reference}", tags=["platform"], response_class=HTMLResponse)
    async def platform_pay(reference: str, outcome: Outcome = "success") -> HTMLResponse:
        transaction = gateway.settle("platform", reference, outcome)
        return HTMLResponse(
            page(transaction, reference, f"/pay/{quote(reference, safe='')}"), 200 if transaction else 404
        )

    @app.post("/transfers", tags=["platform"])
    async def transfer(purpose: str, amount_vnd: int) -> JSONResponse:
        """A bank transfer to the collecting account with `purpose` (a dossier code), as the VietQR code asks."""
        transaction = gateway.transfer(purpose, amount_vnd)
        if transaction is None:
            return JSONResponse({"detail": "no pending payment with this purpose and amount"}, 404)
        return JSONResponse({"transaction_id": transaction.transaction_id, "reference": transaction.reference})

    @app.get(card.PAY_PATH, tags=["card"], response_class=HTMLResponse)
    async def card_page(request: Request) -> HTMLResponse:
        """The card gateway's page, reached with payment's signed order."""
        params = dict(request.query_params)
        transaction, problem = gateway.card_open(params)
        reference = params.get("vnp_TxnRef", "")
        action = f"/paymentv2/pay/{quote(reference, safe='')}"
        return HTMLResponse(page(transaction, reference, action, problem), 400 if problem else 200)

    @app.post("/paymentv2/pay/{reference}", tags=["card"], response_model=None)
    async def card_pay(reference: str, outcome: Outcome = "success") -> Any:
        """Pay (or not); the browser goes back to payment's page, which shows what payment was told."""
        transaction = gateway.settle("card", reference, outcome)
        if transaction is None:
            return HTMLResponse(page(None, reference, ""), 404)
        if not transaction.return_url:
            return HTMLResponse(page(transaction, reference, ""))
        return RedirectResponse(transaction.return_url, 303)

    @app.post(card.API_PATH, tags=["card"])
    async def card_api(request: Request) -> dict[str, str]:
        """querydr and refund."""
        body = await request.json()
        return gateway.card_api({str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {})

    @app.post("/sandbox/citizens", tags=["sandbox"])
    async def sandbox_citizens(pay_after_s: float) -> dict[str, float | None]:
        """How long the sandbox citizen takes to pay each new platform transaction; negative: never by itself."""
        gateway.config = dataclasses.replace(gateway.config, pay_after_s=pay_after_s if pay_after_s >= 0 else None)
        return {"pay_after_s": gateway.config.pay_after_s}

    @app.post("/sandbox/{protocol}/{reference}", tags=["sandbox"])
    async def sandbox_settle(protocol: Protocol, reference: str, outcome: Outcome = "success") -> JSONResponse:
        """Settle a pending transaction with `outcome` (what a test or a demo wants to happen)."""
        transaction = gateway.settle(protocol, reference, outcome)
        if transaction is None:
            return JSONResponse({"detail": "unknown transaction"}, 404)
        return JSONResponse({"state": transaction.state, "transaction_id": transaction.transaction_id})

    @app.get("/sandbox/{protocol}/{reference}", tags=["sandbox"])
    async def sandbox_transaction(protocol: Protocol, reference: str) -> JSONResponse:
        """A transaction as the gateway sees it, with what payment answered each notification."""
        transaction = gateway.get(protocol, reference)
        if transaction is None:
            return JSONResponse({"detail": "unknown transaction"}, 404)
        return JSONResponse(
            {
                "state": transaction.state,
                "transaction_id": transaction.transaction_id,
                "amount_vnd": transaction.amount_vnd,
                "notifications": transaction.notifications,
                "refunds": transaction.refunds,
            }
        )

    @app.get("/statements/{protocol}", tags=["statements"], response_class=PlainTextResponse)
    async def statement(protocol: Protocol, day: date) -> PlainTextResponse:
        """The day's statement (CSV), for reconciliation."""
        return PlainTextResponse(gateway.statement(protocol, day), media_type="text/csv")

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": "gateway"}

    @app.get("/ready", tags=["operations"])
    async def ready() -> dict[str, str]:
        """Readiness: it takes INIT requests."""
        return {"status": "ready", "service": "gateway"}

    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = GatewayConfig.from_environment(os.environ)
    port = int(os.environ.get("MOTCUA_HTTP_PORT", DEFAULT_PORT))
    log.warning("sandbox payment gateway: development only, transactions in memory")
    uvicorn.run(create_app(Gateway(config)), host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main()
