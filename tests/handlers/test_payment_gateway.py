"""The sandbox gateway (infra/gateway.py) behaves like a real one: INIT checks, QUERY, the payment
page, and callbacks sent server to server until payment takes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from infra.gateway import Gateway, GatewayConfig, create_app
from services.payment.app import create
from services.payment.gateway_protocol import InitRequest, QueryRequest, QueryResponse, gateway_time
from services.runtime import utcnow
from services.runtime.service import http_app
from tests.harness import Harness

from .events import received
from .test_payment import CODE, GATEWAY_URL, REFERENCE, SECRET, Switch, settings, stored, until


def init(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    fields = {"partner_code": "MOTCUA", "reference": REFERENCE, "amount_vnd": 20000, "currency": "VND"}
    return InitRequest.signed(secret, **(fields | {"time": gateway_time(utcnow())} | changes)).model_dump()


@asynccontextmanager
async def gateway_alone(
    ipn: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    config = GatewayConfig(GATEWAY_URL, SECRET, "http://payment/payments/ipn", pay_after_s=None, ipn_retry_s=0.01)
    async with Gateway(config, ipn_transport=ipn or Switch()) as gateway:
        transport = httpx.ASGITransport(app=create_app(gateway))
        async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
            yield gateway, client


class Counting(Switch):
    def __init__(self, target: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(target)
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await super().handle_async_request(request)


async def test_init_opens_one_transaction_per_reference_and_refuses_what_it_cannot_trust() -> None:
    async with gateway_alone() as (gateway, client):
        assert (await client.post("/init", json=init(secret="guessed"))).json()["error_code"] == "97"
        assert (await client.post("/init", json=init(partner_code="ANOTHER"))).json()["error_code"] == "02"
        assert (await client.post("/init", json=init(currency="USD"))).json()["error_code"] == "03"
        assert gateway.transactions == {}

        opened = (await client.post("/init", json=init())).json()
        assert opened == {"error_code": "00", "message": "", "payment_url": f"{GATEWAY_URL}/pay/{REFERENCE}"}
        assert (await client.post("/init", json=init())).json() == opened  # idempotent by reference
        assert (await client.post("/init", json=init(amount_vnd=1))).json()["error_code"] == "03"
        assert list(gateway.transactions) == [REFERENCE]
        assert (await client.post("/init", json={"reference": REFERENCE})).status_code == 422


def query(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    fields = {"partner_code": "MOTCUA", "reference": REFERENCE, "time": gateway_time(utcnow())}
    return QueryRequest.signed(secret, **(fields | changes)).model_dump()


async def test_query_answers_the_transactions_state_signed_and_only_to_a_signed_request() -> None:
    async with gateway_alone() as (_, client):
        unknown = await client.post("/query", json=query())
        assert unknown.status_code == 404 and unknown.json()["error_code"] == "01"
        await client.post("/init", json=init())
        pending = QueryResponse.model_validate((await client.post("/query", json=query())).json())
        assert pending.verify(SECRET) and (pending.state, pending.transaction_id) == ("pending", "")

        assert "Đã thanh toán" in (await client.post(f"/pay/{REFERENCE}")).text
        paid = QueryResponse.model_validate((await client.post("/query", json=query())).json())
        assert paid.verify(SECRET) and paid.state == "success" and paid.transaction_id.startswith("SBX")
        assert not paid.model_copy(update={"state": "failed"}).verify(SECRET)

        guessed = await client.post("/query", json=query(secret="guessed"))
        assert guessed.status_code == 400 and guessed.json()["error_code"] == "97"
        stranger = await client.post("/query", json=query(partner_code="ANOTHER"))
        assert stranger.status_code == 400 and stranger.json()["error_code"] == "02"


async def test_the_payment_page_shows_the_amount_and_the_citizen_may_decline() -> None:
    async with gateway_alone() as (_, client):
        assert (await client.get("/pay/PAY-NOTHING")).status_code == 404
        await client.post("/init", json=init(amount_vnd=1250000))
        page = await client.get(f"/pay/{REFERENCE}")
        assert "1.250.000 ₫" in page.text and "Chờ thanh toán" in page.text
        declined = await client.post(f"/pay/{REFERENCE}", params={"result": "failed"})
        assert "Đã hủy" in declined.text
        assert (await client.post("/query", json=query())).json()["state"] == "failed"


async def test_callbacks_are_sent_again_until_payment_takes_them() -> None:
    to_payment = Counting(httpx.MockTransport(lambda request: httpx.Response(503)))  # payment is failing
    async with (
        gateway_alone(to_payment) as (gateway, client),
        Harness.running(create(settings())) as payment,
    ):
        await payment.deliver(received(CODE))
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}")
        await until(lambda: to_payment.requests >= 2)
        to_payment.target = None  # then down
        await until(lambda: to_payment.requests >= 4)
        assert gateway.transactions[REFERENCE].callback == "sending"

        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))  # payment is back
        await until(lambda: gateway.transactions[REFERENCE].callback == "delivered")
        assert (await stored(payment))["state"] == "paid"


async def test_a_callback_payment_refuses_is_not_sent_for_ever() -> None:
    to_payment = Counting()
    async with (
        gateway_alone(to_payment) as (gateway, client),
        Harness.running(create(settings())) as payment,  # its fee is not known here: 404
    ):
        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}")
        await until(lambda: gateway.transactions[REFERENCE].callback == "refused")
        assert to_payment.requests == 1


async def test_a_declined_payment_leaves_the_fee_pending() -> None:
    to_payment = Counting()
    async with (
        gateway_alone(to_payment) as (gateway, client),
        Harness.running(create(settings())) as payment,
    ):
        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))
        await payment.deliver(received(CODE))
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}", params={"result": "failed"})
        await until(lambda: gateway.transactions[REFERENCE].callback == "delivered")
        assert (await stored(payment))["state"] == "pending"


def test_the_gateway_is_configured_from_the_environment() -> None:
    config = GatewayConfig.from_environment(
        {
            "MOTCUA_HTTP_PORT": "9109",
            "MOTCUA_GATEWAY_SECRET": "s3cret",
            "MOTCUA_GATEWAY_IPN_URL": "http://127.0.0.1:9103/payments/ipn",
            "MOTCUA_GATEWAY_PAY_AFTER_S": "-1",
        }
    )
    assert (config.url, config.secret, config.ipn_url) == (
        "http://127.0.0.1:9109",
        "s3cret",
        "http://127.0.0.1:9103/payments/ipn",
    )
    assert config.partner_code == "MOTCUA" and config.pay_after_s is None
    assert GatewayConfig.from_environment({}).pay_after_s == 1.0
