"""Payment in process: asking for the fee, opening it at the (real, in-process) sandbox gateway,
and the whole loop to `payment.completed`. The callback's rules: test_payment_ipn.py;
withdrawal: test_payment_withdrawal.py; the gateway's own behaviour: test_payment_gateway.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from motcua_contracts import DossierReceived, PaymentCompleted, PaymentNotRequired, PaymentRequested
from pydantic import ValidationError

from infra.gateway import Gateway, GatewayConfig, create_app
from services.payment.app import create
from services.payment.context import Payments
from services.payment.gateway_protocol import Callback, gateway_time
from services.payment.opener import open_due, open_payments
from services.payment.settings import DEVELOPMENT_GATEWAY_SECRET, PaymentSettings
from services.payment.store import PAYMENTS
from services.runtime import utcnow
from services.runtime.service import http_app
from tests.harness import Harness

from .events import received

CODE = "H40.101-261124-0001"
REFERENCE = f"PAY-{CODE}"
SECRET = DEVELOPMENT_GATEWAY_SECRET
GATEWAY_URL = "http://gateway"


def settings(**changes: Any) -> PaymentSettings:
    return PaymentSettings(profile="development", gateway_url=GATEWAY_URL, **changes)


def callback(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    """A callback (IPN) for the sample dossier's fee, signed with `secret` (by default the shared one)."""
    fields = {
        "partner_code": "MOTCUA",
        "reference": REFERENCE,
        "amount_vnd": 20000,
        "currency": "VND",
        "transaction_id": "T1",
        "error_code": "00",
        "time": gateway_time(utcnow()),
    }
    return Callback.signed(secret, **(fields | changes)).model_dump()


class Switch(httpx.AsyncBaseTransport):
    """A transport to whatever `target` is now; none: the other side is unreachable."""

    def __init__(self, target: httpx.AsyncBaseTransport | None = None) -> None:
        self.target = target

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.target is None:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.target.handle_async_request(request)


@asynccontextmanager
async def payment_and_gateway(
    pay_after_s: float | None = None,
) -> AsyncIterator[tuple[Harness[Payments], Gateway, Switch]]:
    """Payment and the sandbox gateway in process, each calling the other's HTTP app.
    The third value switches payment's way to the gateway (e.g. off: unreachable)."""
    to_gateway, to_payment = Switch(), Switch()
    config = GatewayConfig(
        GATEWAY_URL, SECRET, "http://payment/payments/ipn", pay_after_s=pay_after_s, ipn_retry_s=0.01
    )
    async with (
        Gateway(config, ipn_transport=to_payment) as gateway,
        Harness.running(create(settings(), to_gateway)) as payment,
    ):
        to_gateway.target = httpx.ASGITransport(app=create_app(gateway))
        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))
        yield payment, gateway, to_gateway


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


GATEWAY_SETTINGS = ("URL", "SECRET", "PARTNER_CODE", "ADDRESSES")


def test_payment_refuses_to_start_without_the_gateways_address_secret_partner_code_and_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MOTCUA_PROFILE", *(f"MOTCUA_GATEWAY_{setting}" for setting in GATEWAY_SETTINGS)):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="must be set") as refused:
        PaymentSettings()
    for setting in GATEWAY_SETTINGS:
        assert f"MOTCUA_GATEWAY_{setting}" in str(refused.value)

    chosen = PaymentSettings(
        profile="development",
        gateway_url="https://gateway.example",
        gateway_secret="s3cret",
        gateway_partner_code="HANOI01",
        gateway_addresses="203.0.113.0/28, 2001:db8::1",
    )
    assert not {"gateway_url", "gateway_secret", "gateway_partner_code", "gateway_addresses"} & set(
        chosen.development_defaults
    )
    assert [str(network) for network in chosen.gateway_networks] == ["203.0.113.0/28", "2001:db8::1/128"]
    with pytest.raises(ValidationError, match="does not appear to be an IPv4 or IPv6"):
        settings(gateway_addresses="203.0.113.0/28, gateway.example")
    with pytest.raises(ValidationError, match="names no address"):
        settings(gateway_addresses=" , ")


async def test_a_fee_is_asked_for_once_and_a_procedure_without_fee_says_so() -> None:
    async with Harness.running(create(settings())) as payment:
        envelope = await payment.deliver(received(CODE))
        [requested] = await payment.emitted()
        assert isinstance(requested, PaymentRequested)
        assert (requested.reference, requested.amount_vnd, requested.gateway) == (REFERENCE, 20000, "payment-platform")
        assert (await stored(payment))["state"] == "pending"

        await payment.deliver_raw(envelope.to_bytes(), DossierReceived.TOPIC.name, CODE.encode())  # redelivery
        await payment.deliver(received(CODE))  # the same dossier in a new envelope: still one request
        assert await payment.emitted() == []

        free = "H40.101-261124-0002"
        await payment.deliver(received(free, fee_vnd=0))
        assert await payment.emitted() == [PaymentNotRequired(dossier_code=free)]
        assert (await stored(payment, free))["state"] == "not_required"


async def test_a_pending_payment_is_opened_at_the_gateway_once() -> None:
    async with payment_and_gateway() as (payment, gateway, _):
        await payment.deliver(received(CODE))
        assert await open_due(payment.runtime)
        assert (await stored(payment))["payment_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"
        assert gateway.transactions[REFERENCE].amount_vnd == 20000

        # a crash after INIT but before the URL was stored: INIT again is harmless
        document = await stored(payment)
        await payment.documents.put(PAYMENTS, [document | {"payment_url": None}])
        assert await open_due(payment.runtime)
        assert (await stored(payment))["payment_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"
        assert list(gateway.transactions) == [REFERENCE]


async def test_a_gateway_that_is_down_delays_opening_and_loses_nothing() -> None:
    async with payment_and_gateway() as (payment, gateway, to_gateway):
        working = to_gateway.target
        await payment.deliver(received(CODE))
        to_gateway.target = None  # unreachable
        assert not await open_due(payment.runtime)
        to_gateway.target = httpx.MockTransport(lambda request: httpx.Response(503))  # failing
        assert not await open_due(payment.runtime)
        assert (await stored(payment))["state"] == "pending" and (await stored(payment))["payment_url"] is None

        to_gateway.target = working
        assert await open_due(payment.runtime)
        assert (await stored(payment))["payment_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"
        assert gateway.transactions[REFERENCE].state == "pending"


async def test_a_payment_the_gateway_refuses_is_tried_again_later_with_backoff() -> None:
    async with payment_and_gateway() as (payment, gateway, _):
        known = gateway.config
        gateway.config = replace(known, partner_code="ANOTHER")  # the gateway does not know our partner code
        await payment.deliver(received(CODE))
        assert await open_due(payment.runtime)  # reachable, but it refused
        refused = await stored(payment)
        assert refused["payment_url"] is None and refused["open_attempts"] == 1
        assert refused["next_open_at"] > utcnow() and gateway.transactions == {}

        gateway.config = known
        await open_due(payment.runtime)  # not due yet
        assert (await stored(payment))["open_attempts"] == 1 and gateway.transactions == {}
        await open_due(payment.runtime, now=utcnow() + timedelta(minutes=1))
        assert (await stored(payment))["payment_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"


async def test_the_whole_loop_the_sandbox_citizen_pays_and_the_callback_completes_the_payment() -> None:
    async with payment_and_gateway(pay_after_s=0.05) as (payment, gateway, _):
        opener = asyncio.create_task(open_payments(payment.runtime))  # the service's own background job
        try:
            await payment.deliver(received(CODE))
            await until(lambda: REFERENCE in gateway.transactions)
            await until(lambda: gateway.transactions[REFERENCE].callback == "delivered")
        finally:
            opener.cancel()
        requested, completed = await payment.emitted()
        assert isinstance(requested, PaymentRequested) and isinstance(completed, PaymentCompleted)
        assert completed.gateway_transaction == gateway.transactions[REFERENCE].transaction_id
        assert (await stored(payment))["state"] == "paid"


async def test_a_person_pays_on_the_gateways_page_and_payment_is_told() -> None:
    async with payment_and_gateway(pay_after_s=None) as (payment, gateway, _):
        await payment.deliver(received(CODE))
        await open_due(payment.runtime)
        page_url = (await stored(payment))["payment_url"]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(gateway))) as browser:
            page = await browser.get(page_url)
            assert "20.000 ₫" in page.text and "Thanh toán" in page.text
            paid = await browser.post(page_url)
            assert "Đã thanh toán" in paid.text
        await until(lambda: gateway.transactions[REFERENCE].callback == "delivered")
        assert [type(event) for event in await payment.emitted()] == [PaymentRequested, PaymentCompleted]
