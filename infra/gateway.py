"""A sandbox payment gateway: plays the payment platform, the bank and the citizen for a local stack.

DEVELOPMENT ONLY. Anyone who reaches it can pay any fee with a button, no money moves, and
it keeps its transactions in memory (a restart forgets them). A deployment never runs it:
payment is pointed (`MOTCUA_GATEWAY_URL`, `MOTCUA_GATEWAY_SECRET`, `MOTCUA_GATEWAY_PARTNER_CODE`,
`MOTCUA_GATEWAY_ADDRESSES`) at the national payment platform, which speaks the same protocol.

    python -m infra.gateway       # normally started by `motcua up` as the process "gateway"

It behaves like a real gateway, through the protocol in services/payment/gateway_protocol.py:
payment opens a transaction with INIT; the sandbox citizen pays it after a delay (or a person
presses the button on its payment page); the gateway then notifies payment server to server
(the callback, IPN), signed, and sends it again with backoff until payment answers 2xx. A 4xx
answer is logged and not sent again: the same message would be refused again. It takes INIT and
QUERY only when their checksum (HMAC-SHA512 with the shared secret) and partner code are right.

Environment:
    MOTCUA_HTTP_PORT             port on 127.0.0.1 (default 8010)
    MOTCUA_GATEWAY_URL           its own public URL, the start of payment pages' addresses
                                 (default http://127.0.0.1:<port>)
    MOTCUA_GATEWAY_SECRET        secret shared with payment (default: payment's development value)
    MOTCUA_GATEWAY_IPN_URL       payment's callback (default http://127.0.0.1:8003/payments/ipn)
    MOTCUA_GATEWAY_PARTNER_CODE  the partner code it accepts (default MOTCUA, payment's development value)
    MOTCUA_GATEWAY_PAY_AFTER_S   how long the sandbox citizen takes to pay (default 1; negative:
                                 never by itself, only with the page's button)

Endpoints: `POST /init` (INIT), `GET /pay/{reference}` (the payment page), `POST /pay/{reference}`
(pay now; `?result=failed` declines), `POST /query` (QUERY), `GET /health`, `GET /ready`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from services.payment.gateway_protocol import (
    CANCELLED_BY_CITIZEN,
    CURRENCY,
    INVALID_CHECKSUM,
    INVALID_REQUEST,
    SUCCESS,
    UNKNOWN_PARTNER,
    UNKNOWN_REFERENCE,
    Callback,
    InitRequest,
    InitResponse,
    QueryRequest,
    QueryResponse,
    Refusal,
    TransactionState,
    gateway_time,
)
from services.payment.settings import DEVELOPMENT_GATEWAY_SECRET, DEVELOPMENT_PARTNER_CODE
from services.runtime.retry import backoff

log = logging.getLogger("infra.gateway")
DEFAULT_PORT = 8010
DEFAULT_IPN_URL = "http://127.0.0.1:8003/payments/ipn"
DEFAULT_PAY_AFTER_S = 1.0
IPN_RETRY_S = 0.5  # first pause before sending a callback again; it doubles, up to the runtime's cap
IPN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class GatewayConfig:
    url: str  # its own public URL
    secret: str
    ipn_url: str
    partner_code: str = DEVELOPMENT_PARTNER_CODE
    pay_after_s: float | None = DEFAULT_PAY_AFTER_S  # None: the sandbox citizen never pays by itself
    ipn_retry_s: float = IPN_RETRY_S

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> GatewayConfig:
        port = int(environ.get("MOTCUA_HTTP_PORT", DEFAULT_PORT))
        pay_after = float(environ.get("MOTCUA_GATEWAY_PAY_AFTER_S", DEFAULT_PAY_AFTER_S))
        return cls(
            url=environ.get("MOTCUA_GATEWAY_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            secret=environ.get("MOTCUA_GATEWAY_SECRET", DEVELOPMENT_GATEWAY_SECRET),
            ipn_url=environ.get("MOTCUA_GATEWAY_IPN_URL", DEFAULT_IPN_URL),
            partner_code=environ.get("MOTCUA_GATEWAY_PARTNER_CODE", DEVELOPMENT_PARTNER_CODE),
            pay_after_s=pay_after if pay_after >= 0 else None,
        )


@dataclass
class Transaction:
    reference: str
    amount_vnd: int
    opened_at: datetime
    state: TransactionState = "pending"
    transaction_id: str = ""  # given when the citizen pays or declines
    callback: Literal["not sent", "sending", "delivered", "refused"] = "not sent"


class Gateway:
    """The sandbox gateway's transactions and its messages to payment; `async with` it while it serves."""

    def __init__(self, config: GatewayConfig, ipn_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.transactions: dict[str, Transaction] = {}
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

    def payment_url(self, reference: str) -> str:
        return f"{self.config.url}/pay/{quote(reference, safe='')}"

    def init(self, request: InitRequest) -> InitResponse:
        """INIT: open a transaction (or return the one already opened for this reference)."""
        if not request.verify(self.config.secret):
            return InitResponse(error_code=INVALID_CHECKSUM, message="invalid checksum")
        if request.partner_code != self.config.partner_code:
            return InitResponse(error_code=UNKNOWN_PARTNER, message="unknown partner code")
        if request.currency != CURRENCY:
            return InitResponse(error_code=INVALID_REQUEST, message=f"only {CURRENCY} is accepted")
        known = self.transactions.get(request.reference)
        if known is None:
            known = Transaction(request.reference, request.amount_vnd, datetime.now(UTC))
            self.transactions[request.reference] = known
            if self.config.pay_after_s is not None:
                self._spawn(self._sandbox_citizen(known, self.config.pay_after_s))
        elif known.amount_vnd != request.amount_vnd:
            return InitResponse(error_code=INVALID_REQUEST, message="reference already opened with another amount")
        return InitResponse(error_code=SUCCESS, payment_url=self.payment_url(request.reference))

    def settle(self, reference: str, paid: bool = True) -> Transaction | None:
        """The citizen pays (or declines) a pending transaction; payment is then told."""
        transaction = self.transactions.get(reference)
        if transaction is None or transaction.state != "pending":
            return transaction
        transaction.state = "success" if paid else "failed"
        transaction.transaction_id = "SBX" + secrets.token_hex(6).upper()
        self._spawn(self._notify(transaction))
        return transaction

    def query(self, request: QueryRequest) -> QueryResponse | Refusal:
        """QUERY: the transaction's state, signed; or why not."""
        if not request.verify(self.config.secret):
            return Refusal(error_code=INVALID_CHECKSUM, message="invalid checksum")
        if request.partner_code != self.config.partner_code:
            return Refusal(error_code=UNKNOWN_PARTNER, message="unknown partner code")
        transaction = self.transactions.get(request.reference)
        if transaction is None:
            return Refusal(error_code=UNKNOWN_REFERENCE, message="unknown reference")
        return QueryResponse.signed(
            self.config.secret,
            partner_code=self.config.partner_code,
            reference=request.reference,
            amount_vnd=transaction.amount_vnd,
            currency=CURRENCY,
            state=transaction.state,
            transaction_id=transaction.transaction_id,
            error_code=SUCCESS,
            time=gateway_time(datetime.now(UTC)),
        )

    def callback_for(self, transaction: Transaction) -> Callback:
        """The signed callback (IPN) of a settled transaction, timed now."""
        return Callback.signed(
            self.config.secret,
            partner_code=self.config.partner_code,
            reference=transaction.reference,
            amount_vnd=transaction.amount_vnd,
            currency=CURRENCY,
            transaction_id=transaction.transaction_id,
            error_code=SUCCESS if transaction.state == "success" else CANCELLED_BY_CITIZEN,
            time=gateway_time(datetime.now(UTC)),
        )

    async def _sandbox_citizen(self, transaction: Transaction, after_s: float) -> None:
        await asyncio.sleep(after_s)
        self.settle(transaction.reference)

    async def _notify(self, transaction: Transaction) -> None:
        """Send the outcome to payment until it takes it (2xx) or refuses it (4xx)."""
        if self._client is None:
            raise RuntimeError("the gateway has not started (use `async with gateway`)")
        transaction.callback = "sending"
        for attempt in itertools.count(1):
            try:  # signed anew each time: the callback's time is when it is sent
                response = await self._client.post(
                    self.config.ipn_url, json=self.callback_for(transaction).model_dump()
                )
            except httpx.HTTPError as error:
                problem = type(error).__name__
            else:
                if response.is_success:
                    transaction.callback = "delivered"
                    return
                if response.is_client_error:
                    transaction.callback = "refused"
                    status = response.status_code
                    log.error(
                        "payment refused the callback of %s (HTTP %s); not sent again", transaction.reference, status
                    )
                    return
                problem = f"HTTP {response.status_code}"
            pause = backoff(attempt, self.config.ipn_retry_s)
            log.warning("callback of %s not delivered (%s); again in %.1fs", transaction.reference, problem, pause)
            await asyncio.sleep(pause)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


STATES_VI = {"pending": "Chờ thanh toán", "success": "Đã thanh toán", "failed": "Đã hủy"}


def page(transaction: Transaction | None, reference: str) -> str:
    """The payment page (Vietnamese): amount, state and, while pending, the buttons to pay or decline."""
    body = f"<p>Không tìm thấy giao dịch <b>{html.escape(reference)}</b>.</p>"
    if transaction is not None:
        action = f"/pay/{quote(reference, safe='')}"
        buttons = (
            f'<form method="post" action="{action}"><button>Thanh toán</button></form>'
            f'<form method="post" action="{action}?result=failed"><button>Hủy giao dịch</button></form>'
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
    """The gateway's HTTP app; serving it runs `gateway` (its callbacks and sandbox citizen)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with gateway:
            yield

    app = FastAPI(title="motcua sandbox payment gateway (development only)", version="0.1.0", lifespan=lifespan)

    @app.post("/init", tags=["gateway"])
    async def init(request: InitRequest) -> InitResponse:
        """INIT: open a transaction; the answer names the page where the citizen pays."""
        return gateway.init(request)

    @app.get("/pay/{reference}", tags=["gateway"], response_class=HTMLResponse)
    async def payment_page(reference: str) -> HTMLResponse:
        """The page where the citizen pays (or declines)."""
        transaction = gateway.transactions.get(reference)
        return HTMLResponse(page(transaction, reference), status_code=200 if transaction else 404)

    @app.post("/pay/{reference}", tags=["gateway"], response_class=HTMLResponse)
    async def pay(reference: str, result: Literal["success", "failed"] = "success") -> HTMLResponse:
        """Pay now (a person trying the demo); `?result=failed` declines."""
        transaction = gateway.settle(reference, paid=result == "success")
        return HTMLResponse(page(transaction, reference), status_code=200 if transaction else 404)

    @app.post("/query", tags=["gateway"], response_model=None)
    async def query(request: QueryRequest) -> QueryResponse | JSONResponse:
        """QUERY: the transaction's state (success / pending / failed), signed."""
        answer = gateway.query(request)
        if isinstance(answer, Refusal):
            status = 404 if answer.error_code == UNKNOWN_REFERENCE else 400
            return JSONResponse(answer.model_dump(), status_code=status)
        return answer

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
