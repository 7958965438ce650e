"""The sandbox gateway (infra/gateway.py) behaves like a real one, in both protocols: INIT and the
card page's signed order checked, QUERY and querydr, REFUND and refund, the payment pages, the
outcomes, and notifications sent server to server until payment takes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from motcua_contracts import PaymentCompleted

from infra.gateway import Gateway, GatewayConfig, create_app
from services.payment.gateways import sorted_hmac as card
from services.payment.gateways.platform import (
    InitRequest,
    QueryRequest,
    QueryResponse,
    RefundRequest,
    RefundResponse,
    gateway_time,
)
from services.runtime import utcnow
from services.runtime.clock import local
from services.runtime.service import http_app

from .events import received
from .payment_support import (
    CARD_REFERENCE,
    CODE,
    GATEWAY_URL,
    HMAC_SECRET,
    PARTNER,
    PAYMENT_URL,
    REFERENCE,
    SECRET,
    Switch,
    payment_alone,
    stored,
    until,
)


def init(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    fields = {"partner_code": PARTNER, "reference": REFERENCE, "amount_vnd": 20000, "currency": "VND"}
    return InitRequest.signed(secret, **(fields | {"time": gateway_time(utcnow())} | changes)).model_dump()


def query(secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    fields = {"partner_code": PARTNER, "reference": REFERENCE, "time": gateway_time(utcnow())}
    return QueryRequest.signed(secret, **(fields | changes)).model_dump()


def refund(transaction_id: str, secret: str = SECRET, **changes: Any) -> dict[str, Any]:
    fields = {
        "partner_code": PARTNER,
        "reference": REFERENCE,
        "transaction_id": transaction_id,
        "amount_vnd": 20000,
        "refund_id": "RF-1",
        "reason": "paid twice",
        "time": gateway_time(utcnow()),
    }
    return RefundRequest.signed(secret, **(fields | changes)).model_dump()


def card_order(secret: str = HMAC_SECRET, **changes: str) -> dict[str, str]:
    """The card gateway's page's parameters, as payment signs them."""
    params = {
        "vnp_Version": card.VERSION,
        "vnp_Command": "pay",
        "vnp_TmnCode": PARTNER,
        "vnp_Amount": card.amount_param(20000),
        "vnp_CurrCode": "VND",
        "vnp_TxnRef": CARD_REFERENCE,
        "vnp_OrderInfo": "Thanh toan phi",
        "vnp_ReturnUrl": f"{PAYMENT_URL}/pay/{CODE}?token=t",
        "vnp_CreateDate": gateway_time(utcnow()),
        "vnp_ExpireDate": gateway_time(utcnow() + timedelta(hours=1)),
    }
    return card.signed(params | changes, secret)


def card_api(command: str, secret: str = HMAC_SECRET, **changes: str) -> dict[str, str]:
    params = {
        "vnp_RequestId": f"R{command}",
        "vnp_Version": card.VERSION,
        "vnp_Command": command,
        "vnp_TmnCode": PARTNER,
        "vnp_TxnRef": CARD_REFERENCE,
        "vnp_CreateDate": gateway_time(utcnow()),
    }
    return card.signed(params | changes, secret)


@asynccontextmanager
async def gateway_alone(
    ipn: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    config = GatewayConfig(
        GATEWAY_URL,
        SECRET,
        f"{PAYMENT_URL}/payments/ipn",
        card_ipn_url=f"{PAYMENT_URL}/payments/ipn/card",
        pay_after_s=None,
        ipn_retry_s=0.01,
    )
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
        assert list(gateway.transactions) == [("platform", REFERENCE)]
        assert (await client.post("/init", json={"reference": REFERENCE})).status_code == 422


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


async def test_refund_pays_a_successful_transaction_back_once_per_refund_id() -> None:
    async with gateway_alone() as (gateway, client):
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}")
        transaction = gateway.get("platform", REFERENCE)
        assert transaction is not None and transaction.state == "success"

        done = RefundResponse.model_validate(
            (await client.post("/refund", json=refund(transaction.transaction_id))).json()
        )
        assert done.verify(SECRET) and done.error_code == "00" and done.refund_transaction_id.startswith("RFD")
        again = RefundResponse.model_validate(
            (await client.post("/refund", json=refund(transaction.transaction_id))).json()
        )
        assert again.refund_transaction_id == done.refund_transaction_id  # idempotent by refund id
        assert transaction.refunds == {"RF-1": done.refund_transaction_id}

        wrong = (await client.post("/refund", json=refund("SBX-OTHER", refund_id="RF-2"))).json()
        partial = (await client.post("/refund", json=refund(transaction.transaction_id, amount_vnd=1))).json()
        assert wrong["error_code"] == partial["error_code"] == "03" and len(transaction.refunds) == 1
        guessed = await client.post("/refund", json=refund(transaction.transaction_id, secret="guessed"))
        assert guessed.status_code == 400 and guessed.json()["error_code"] == "97"


async def test_the_platform_page_shows_the_amount_and_the_citizen_may_decline() -> None:
    async with gateway_alone() as (_, client):
        assert (await client.get("/pay/PAY-NOTHING")).status_code == 404
        await client.post("/init", json=init(amount_vnd=1250000))
        page = await client.get(f"/pay/{REFERENCE}")
        assert "1.250.000 ₫" in page.text and "Chờ thanh toán" in page.text
        assert all(f"?outcome={outcome}" in page.text for outcome in ("success", "failed", "cancel", "late"))
        declined = await client.post(f"/pay/{REFERENCE}", params={"outcome": "failed"})
        assert "Không thành công" in declined.text and "?outcome=" not in declined.text
        assert (await client.post("/query", json=query())).json()["state"] == "failed"


async def test_the_card_page_opens_only_a_signed_current_order_of_our_terminal() -> None:
    async with gateway_alone() as (gateway, client):
        expired = gateway_time(utcnow() - timedelta(minutes=1))
        for wrong, problem in [
            (card_order(secret="guessed"), "Sai chữ ký"),
            (card_order() | {"vnp_Amount": "100"}, "Sai chữ ký"),  # changed after signing
            (card_order(vnp_TmnCode="ANOTHER"), "vnp_TmnCode"),
            (card_order(vnp_ExpireDate=expired), "quá thời gian"),
        ]:
            refused = await client.get(f"{card.PAY_PATH}?{urlencode(wrong)}")
            assert refused.status_code == 400 and problem in refused.text
        assert gateway.transactions == {}

        page = await client.get(f"{card.PAY_PATH}?{urlencode(card_order())}")
        assert page.status_code == 200 and "20.000 ₫" in page.text
        opened = gateway.get("card", CARD_REFERENCE)
        assert opened is not None and (opened.amount_vnd, opened.return_url) == (
            20000,
            f"{PAYMENT_URL}/pay/{CODE}?token=t",
        )
        assert (await client.get(f"{card.PAY_PATH}?{urlencode(card_order())}")).status_code == 200  # the same again
        other = await client.get(f"{card.PAY_PATH}?{urlencode(card_order(vnp_Amount='100'))}")
        assert other.status_code == 400 and len(gateway.transactions) == 1

        paid = await client.post(f"/paymentv2/pay/{CARD_REFERENCE}")  # back to payment's page
        assert paid.status_code == 303 and paid.headers["location"] == f"{PAYMENT_URL}/pay/{CODE}?token=t"


async def test_querydr_and_refund_answer_signed_and_only_to_a_signed_request() -> None:
    async with gateway_alone() as (gateway, client):
        unknown = (await client.post(card.API_PATH, json=card_api("querydr"))).json()
        assert unknown["vnp_ResponseCode"] == "91" and card.verified(unknown, HMAC_SECRET)
        await client.get(f"{card.PAY_PATH}?{urlencode(card_order())}")
        pending = (await client.post(card.API_PATH, json=card_api("querydr"))).json()
        assert card.verified(pending, HMAC_SECRET)
        assert (pending["vnp_ResponseCode"], pending["vnp_TransactionStatus"]) == ("00", "01")

        await client.post(f"/paymentv2/pay/{CARD_REFERENCE}")
        paid = (await client.post(card.API_PATH, json=card_api("querydr"))).json()
        assert card.verified(paid, HMAC_SECRET) and paid["vnp_TransactionStatus"] == "00"
        assert paid["vnp_Amount"] == "2000000" and paid["vnp_TransactionNo"].startswith("SBX")

        refund_of = {"vnp_Amount": "2000000", "vnp_TransactionNo": paid["vnp_TransactionNo"], "vnp_RequestId": "RF-C"}
        done = (await client.post(card.API_PATH, json=card_api("refund", **refund_of))).json()
        assert card.verified(done, HMAC_SECRET) and done["vnp_ResponseCode"] == "00"
        again = (await client.post(card.API_PATH, json=card_api("refund", **refund_of))).json()
        assert again["vnp_TransactionNo"] == done["vnp_TransactionNo"]
        transaction = gateway.get("card", CARD_REFERENCE)
        assert transaction is not None and transaction.refunds == {"RF-C": done["vnp_TransactionNo"]}
        partial = (
            await client.post(card.API_PATH, json=card_api("refund", **(refund_of | {"vnp_Amount": "100"})))
        ).json()
        assert partial["vnp_ResponseCode"] == "94"

        guessed = (await client.post(card.API_PATH, json=card_api("querydr", secret="guessed"))).json()
        assert guessed["vnp_ResponseCode"] == "97"


async def test_notifications_are_sent_again_until_payment_takes_them() -> None:
    to_payment = Counting(httpx.MockTransport(lambda request: httpx.Response(503)))  # payment is failing
    async with gateway_alone(to_payment) as (gateway, client), payment_alone() as payment:
        await payment.deliver(received(CODE))
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}")
        await until(lambda: to_payment.requests >= 2)
        to_payment.target = None  # then down
        await until(lambda: to_payment.requests >= 4)
        transaction = gateway.get("platform", REFERENCE)
        assert transaction is not None and transaction.notifications == []

        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))  # payment is back
        await until(lambda: transaction.notifications)
        assert transaction.notifications == ['200 {"result":"confirmed"}']
        assert (await stored(payment))["state"] == "paid"


async def test_a_card_notification_is_sent_again_until_payment_answers_00_or_02() -> None:
    answers = iter([{"RspCode": "99", "Message": "busy"}, {"RspCode": "99", "Message": "busy"}])
    to_payment = Counting(
        httpx.MockTransport(lambda request: httpx.Response(200, json=next(answers, {"RspCode": "02", "Message": "ok"})))
    )
    async with gateway_alone(to_payment) as (gateway, client):
        await client.get(f"{card.PAY_PATH}?{urlencode(card_order())}")
        await client.post(f"/paymentv2/pay/{CARD_REFERENCE}")
        transaction = gateway.get("card", CARD_REFERENCE)
        assert transaction is not None
        await until(lambda: transaction.notifications)
        assert to_payment.requests == 3
        assert transaction.notifications == ['200 {"RspCode":"02","Message":"ok"}']


async def test_a_notification_payment_refuses_is_not_sent_for_ever() -> None:
    to_payment = Counting()
    async with gateway_alone(to_payment) as (gateway, client), payment_alone() as payment:  # its fee is unknown: 404
        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}")
        transaction = gateway.get("platform", REFERENCE)
        assert transaction is not None
        await until(lambda: transaction.notifications)
        assert transaction.notifications[0].startswith("404 ") and to_payment.requests == 1


async def test_a_declined_payment_leaves_the_fee_pending() -> None:
    to_payment = Counting()
    async with gateway_alone(to_payment) as (gateway, client), payment_alone() as payment:
        to_payment.target = httpx.ASGITransport(app=http_app(payment.runtime))
        await payment.deliver(received(CODE))
        await client.post("/init", json=init())
        await client.post(f"/pay/{REFERENCE}", params={"outcome": "cancel"})
        transaction = gateway.get("platform", REFERENCE)
        assert transaction is not None
        await until(lambda: transaction.notifications)
        assert transaction.notifications[0].startswith('200 {"result":"not paid"')
        assert (await stored(payment))["state"] == "pending"
        assert [type(e) for e in await payment.emitted()] != [PaymentCompleted]


async def test_the_statement_lists_the_days_settled_transactions_and_refunds() -> None:
    async with gateway_alone() as (gateway, client):
        await client.post("/init", json=init())
        await client.post("/init", json=init(reference=f"{REFERENCE}-9"))
        await client.post(f"/pay/{REFERENCE}")
        await client.post(f"/pay/{REFERENCE}-9", params={"outcome": "failed"})
        paid = gateway.get("platform", REFERENCE)
        assert paid is not None
        await client.post("/refund", json=refund(paid.transaction_id))
        day = local(datetime.now(UTC)).date()
        lines = (await client.get("/statements/platform", params={"day": day.isoformat()})).text.splitlines()
        assert lines[0] == "transaction_id,reference,type,amount_vnd,status,settled_at"
        assert sorted(line.split(",")[2:5] for line in lines[1:]) == [
            ["payment", "20000", "failed"],
            ["payment", "20000", "success"],
            ["refund", "20000", "success"],
        ]
        assert (await client.get("/statements/card", params={"day": day.isoformat()})).text.count("\n") == 1
        tomorrow = (day + timedelta(days=1)).isoformat()
        assert (await client.get("/statements/platform", params={"day": tomorrow})).text.count("\n") == 1


def test_the_gateway_is_configured_from_the_environment() -> None:
    config = GatewayConfig.from_environment(
        {
            "MOTCUA_HTTP_PORT": "9109",
            "MOTCUA_GATEWAY_SECRET": "s3cret",
            "MOTCUA_GATEWAY_HMAC_SECRET": "hm4c",
            "MOTCUA_GATEWAY_IPN_URL": "http://127.0.0.1:9103/payments/ipn",
            "MOTCUA_GATEWAY_CARD_IPN_URL": "http://127.0.0.1:9103/payments/ipn/card",
            "MOTCUA_GATEWAY_PAY_AFTER_S": "-1",
            "MOTCUA_GATEWAY_LATE_S": "2",
        }
    )
    assert (config.url, config.secret, config.hmac_secret, config.ipn_url, config.card_ipn_url) == (
        "http://127.0.0.1:9109",
        "s3cret",
        "hm4c",
        "http://127.0.0.1:9103/payments/ipn",
        "http://127.0.0.1:9103/payments/ipn/card",
    )
    assert config.partner_code == "MOTCUA" and config.pay_after_s is None and config.late_s == 2
    assert GatewayConfig.from_environment({}).pay_after_s == 1.0
