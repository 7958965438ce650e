"""Payment in process for the fast tests, with the real sandbox gateway (infra/gateway.py) in
process too: each calls the other's HTTP app through a `Switch` the test may cut. A citizen's
browser reaches both; officials' tokens come from the development issuer, in process as well."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from infra.gateway import Gateway, GatewayConfig, Protocol, Transaction, create_app
from infra.issuer import create_app as create_issuer
from services.payment import jobs
from services.payment.app import create
from services.payment.context import Payments
from services.payment.gateways import sorted_hmac as card
from services.payment.gateways.platform import Callback, gateway_time
from services.payment.ledger import LEDGER
from services.payment.settings import (
    DEVELOPMENT_GATEWAY_SECRET,
    DEVELOPMENT_HMAC_SECRET,
    DEVELOPMENT_PARTNER_CODE,
    PaymentSettings,
)
from services.payment.store import PAYMENTS, RECEIPT_NUMBERS
from services.runtime import utcnow
from services.runtime.receipts import pay_token
from services.runtime.service import http_app
from tests.harness import Harness

from .events import received

CODE = "H40.101-261124-0001"
REFERENCE = f"PAY-{CODE}"  # the first order's, at the national platform
CARD_REFERENCE = f"{REFERENCE}-2"  # the second order's, when the citizen picks the card gateway
SECRET = DEVELOPMENT_GATEWAY_SECRET
HMAC_SECRET = DEVELOPMENT_HMAC_SECRET
PARTNER = DEVELOPMENT_PARTNER_CODE
PLATFORM, CARD = "payment-platform", "card-gateway"  # the gateways' names in events, ledger and statements
GATEWAY_URL = "http://gateway"
PAYMENT_URL = "http://payment"
ISSUER = "http://issuer.test"
OFFICER = "h40101.tiepnhan1"  # a receiving officer
FINANCE = "h40.ketoan1"  # a finance officer (reconciliations)
RECEIPT_KEY = PaymentSettings(profile="development").receipt_key()
ISSUER_APP = create_issuer(ISSUER, Path(tempfile.mkdtemp(prefix="motcua-issuer-")) / "issuer-key.pem")


def settings(**changes: Any) -> PaymentSettings:
    chosen: dict[str, Any] = {
        "profile": "development",
        "public_url": PAYMENT_URL,
        "gateway_url": GATEWAY_URL,
        "hmac_gateway_url": GATEWAY_URL,
        "oidc_issuer": ISSUER,
        "finance_officials": FINANCE,
    }
    return PaymentSettings(**(chosen | changes))


def token_of(code: str = CODE) -> str:
    """The dossier's pay token, as the pay link carries it."""
    return pay_token(RECEIPT_KEY, code)


def callback(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    """A platform notification for the sample dossier's fee (20,000 VND), signed with `secret`."""
    fields = {
        "partner_code": PARTNER,
        "reference": REFERENCE,
        "amount_vnd": 20000,
        "currency": "VND",
        "transaction_id": "T1",
        "error_code": "00",
        "time": gateway_time(utcnow()),
    }
    return Callback.signed(secret, **(fields | changes)).model_dump()


def card_notice(secret: str = HMAC_SECRET, **changes: str) -> dict[str, str]:
    """A card gateway notification for the sample dossier's card order, signed with `secret`."""
    params = {
        "vnp_TmnCode": PARTNER,
        "vnp_Amount": card.amount_param(20000),
        "vnp_CurrCode": "VND",
        "vnp_BankCode": "NCB",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": f"Thanh toan {CARD_REFERENCE}",
        "vnp_PayDate": gateway_time(utcnow()),
        "vnp_ResponseCode": "00",
        "vnp_TransactionNo": "C1",
        "vnp_TransactionStatus": "00",
        "vnp_TxnRef": CARD_REFERENCE,
    }
    return card.signed(params | changes, secret)


class Switch(httpx.AsyncBaseTransport):
    """A transport to whatever `target` is now; none: the other side is unreachable."""

    def __init__(self, target: httpx.AsyncBaseTransport | None = None) -> None:
        self.target = target

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.target is None:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.target.handle_async_request(request)


class Hosts(httpx.AsyncBaseTransport):
    """A browser's way to several apps in process, by host name."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.apps = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.apps[request.url.host].handle_async_request(request)


async def until(condition: Callable[[], Any], timeout: float = 10) -> None:
    """Wait until `condition()` (sync or async) is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def stored(payment: Harness[Payments], code: str = CODE) -> dict[str, Any]:
    document = await payment.documents.get(PAYMENTS, code)
    assert document is not None
    return document


async def ledger(payment: Harness[Payments], code: str | None = None) -> list[dict[str, Any]]:
    """The ledger's entries (of dossier `code`), oldest first."""
    return await payment.documents.find(LEDGER, {"dossier_code": code} if code else {}, order=[("at", 1)])


async def receipts_issued(payment: Harness[Payments]) -> int:
    """How many receipt numbers were issued, all series together."""
    return sum(counter["value"] for counter in await payment.documents.find(RECEIPT_NUMBERS))


async def official(name: str) -> dict[str, str]:
    """The bearer header of an official's access token from the development issuer."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ISSUER_APP), base_url=ISSUER) as issuer:
        answer = await issuer.post("/token", data={"username": name})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def with_issuer(payment: Harness[Payments]) -> None:
    """Payment checks officials' tokens with the issuer in process."""
    payment.context.verifier.transport = httpx.ASGITransport(app=ISSUER_APP)


@asynccontextmanager
async def payment_alone(**changes: Any) -> AsyncIterator[Harness[Payments]]:
    """Payment in process without a gateway (calls to it fail as unreachable)."""
    async with Harness.running(create(settings(**changes), Switch())) as payment:
        with_issuer(payment)
        yield payment


@dataclass
class Sandbox:
    """Payment and the sandbox gateway, each calling the other through a switch."""

    payment: Harness[Payments]
    gateway: Gateway
    to_gateway: Switch  # payment's way to the gateway (INIT, QUERY, REFUND, querydr, refund)
    to_payment: Switch  # the gateway's way to payment (notifications)

    def browser(self) -> httpx.AsyncClient:
        """The citizen's browser: it reaches payment's pages and the gateway's."""
        apps = {"payment": http_app(self.payment.runtime), "gateway": create_app(self.gateway)}
        return httpx.AsyncClient(transport=Hosts(apps), base_url=PAYMENT_URL)

    async def received(self, code: str = CODE, **changes: Any) -> None:
        """The dossier's fee is asked for and its first order opened at the platform."""
        await self.payment.deliver(received(code, **changes))
        assert await jobs.open_due(self.payment.runtime)

    async def start(self, gateway: str, code: str = CODE, token: str | None = None) -> httpx.Response:
        """The citizen picks `gateway` on the payment page."""
        async with self.browser() as browser:
            return await browser.get(
                f"/pay/{code}/start", params={"gateway": gateway, "token": token_of(code) if token is None else token}
            )

    async def card_order(self, code: str = CODE) -> Transaction:
        """The citizen picks the card gateway and lands on its page: the card transaction, pending."""
        started = await self.start(CARD, code)
        assert started.status_code == 303, started.text
        async with self.browser() as browser:
            page = await browser.get(started.headers["location"])
        assert page.status_code == 200, page.text
        [reference] = parse_qs(urlsplit(started.headers["location"]).query)["vnp_TxnRef"]
        transaction = self.gateway.get("card", reference)
        assert transaction is not None and transaction.state == "pending"
        return transaction

    async def pay(
        self, protocol: Protocol, reference: str, outcome: str = "success", notifications: int = 1
    ) -> Transaction:
        """The citizen pays (or not) at the gateway; returns once payment answered `notifications` of them."""
        transaction = self.gateway.settle(protocol, reference, outcome)  # type: ignore[arg-type]
        assert transaction is not None
        await until(lambda: len(transaction.notifications) >= notifications)
        return transaction


@asynccontextmanager
async def payment_and_gateway(
    pay_after_s: float | None = None, late_s: float = 0.05, **changes: Any
) -> AsyncIterator[Sandbox]:
    """Payment and the sandbox gateway in process, each calling the other's HTTP app; the sandbox's
    own citizen pays each platform transaction after `pay_after_s` (None: only when the test says)."""
    to_gateway, to_payment = Switch(), Switch()
    config = GatewayConfig(
        GATEWAY_URL,
        SECRET,
        f"{PAYMENT_URL}/payments/ipn",
        card_ipn_url=f"{PAYMENT_URL}/payments/ipn/card",
        pay_after_s=pay_after_s,
        late_s=late_s,
        ipn_retry_s=0.01,
    )
    async with (
        Gateway(config, ipn_transport=to_payment) as gateway,
        Harness.running(create(settings(**changes), to_gateway)) as payment,
    ):
        with_issuer(payment)
        to_gateway.target = httpx.ASGITransport(app=create_app(gateway))
        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))
        yield Sandbox(payment, gateway, to_gateway, to_payment)
