"""Payment in process: asking for the fee, opening it at the (real, in-process) sandbox gateway,
and the whole loop to `payment.completed`. The notifications' rules: test_payment_ipn.py; the
dossier's end: test_payment_withdrawal.py; the gateway's own behaviour: test_payment_gateway.py;
correct under abuse: test_payment_abuse.py; the citizen's page, the counter and reconciliation:
test_payment_desk.py. Shared support: payment_support.py."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from motcua_contracts import DossierReceived, PaymentCompleted, PaymentNotRequired, PaymentRequested
from pydantic import ValidationError

from services.payment.jobs import open_due, payment_jobs
from services.payment.settings import PaymentSettings
from services.payment.store import PAYMENTS
from services.runtime import utcnow

from .events import received
from .payment_support import (
    CODE,
    GATEWAY_URL,
    PAYMENT_URL,
    PLATFORM,
    REFERENCE,
    payment_alone,
    payment_and_gateway,
    settings,
    stored,
    token_of,
    until,
)

GATEWAY_SETTINGS = (
    "PUBLIC_URL",
    "GATEWAY_URL",
    "GATEWAY_SECRET",
    "GATEWAY_PARTNER_CODE",
    "HMAC_GATEWAY_URL",
    "HMAC_GATEWAY_SECRET",
    "HMAC_GATEWAY_TERMINAL",
    "GATEWAY_ADDRESSES",
    "TRANSFER_BANK_BIN",
    "TRANSFER_ACCOUNT",
)


def test_payment_refuses_to_start_without_the_gateways_addresses_secrets_codes_and_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MOTCUA_PROFILE", *(f"MOTCUA_{setting}" for setting in GATEWAY_SETTINGS)):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="must be set") as refused:
        PaymentSettings()
    for setting in GATEWAY_SETTINGS:
        assert f"MOTCUA_{setting}" in str(refused.value)

    chosen = PaymentSettings(
        profile="development",
        gateway_url="https://gateway.example",
        gateway_secret="s3cret",
        gateway_partner_code="HANOI01",
        hmac_gateway_url="https://card.example",
        hmac_gateway_secret="hm4c",
        hmac_gateway_terminal="HANOI02",
        gateway_addresses="203.0.113.0/28, 2001:db8::1",
    )
    assert not {
        "gateway_url",
        "gateway_secret",
        "gateway_partner_code",
        "hmac_gateway_url",
        "hmac_gateway_secret",
        "hmac_gateway_terminal",
        "gateway_addresses",
    } & set(chosen.development_defaults)
    assert [str(network) for network in chosen.gateway_networks] == ["203.0.113.0/28", "2001:db8::1/128"]
    with pytest.raises(ValidationError, match="does not appear to be an IPv4 or IPv6"):
        settings(gateway_addresses="203.0.113.0/28, gateway.example")
    with pytest.raises(ValidationError, match="names no address"):
        settings(gateway_addresses=" , ")


async def test_a_fee_is_asked_for_once_and_a_procedure_without_fee_says_so() -> None:
    async with payment_alone() as payment:
        envelope = await payment.deliver(received(CODE))
        [requested] = await payment.emitted()
        assert isinstance(requested, PaymentRequested)
        assert (requested.reference, requested.amount_vnd, requested.gateway) == (REFERENCE, 20000, PLATFORM)
        assert requested.pay_link is not None  # sealed: the payment topic is shared with departments
        pay_url = settings().personal_data().open_pay_link(requested.pay_link, CODE)
        assert pay_url == f"{PAYMENT_URL}/pay/{CODE}?token={token_of(CODE)}"
        assert timedelta(hours=71) < requested.expires_at - utcnow() <= timedelta(hours=72)  # the default window
        document = await stored(payment)
        assert document["state"] == "pending"
        assert [(o["reference"], o["gateway"], o["state"]) for o in document["orders"]] == [
            (REFERENCE, PLATFORM, "opening")
        ]

        await payment.deliver_raw(envelope.to_bytes(), DossierReceived.TOPIC.name, CODE.encode())  # redelivery
        await payment.deliver(received(CODE))  # the same dossier in a new envelope: still one request
        assert await payment.emitted() == []

        free = "H40.101-261124-0002"
        await payment.deliver(received(free, fee_vnd=0))
        assert await payment.emitted() == [PaymentNotRequired(dossier_code=free)]
        assert (await stored(payment, free))["state"] == "not_required"

        by = utcnow() + timedelta(hours=5)
        await payment.deliver(received("H40.101-261124-0003", pay_by=by))  # the dossier says until when
        [requested] = await payment.emitted()
        assert requested.expires_at == by


async def test_a_pending_payment_is_opened_at_the_gateway_once() -> None:
    async with payment_and_gateway() as sandbox:
        payment, gateway = sandbox.payment, sandbox.gateway
        await sandbox.received()
        [first] = (await stored(payment))["orders"]
        assert (first["state"], first["page_url"]) == ("open", f"{GATEWAY_URL}/pay/{REFERENCE}")
        opened = gateway.get("platform", REFERENCE)
        assert opened is not None and opened.amount_vnd == 20000

        # a crash after INIT but before the page's address was stored: INIT again is harmless
        document = await stored(payment)
        document["orders"][0] |= {"state": "opening", "page_url": None, "opened_at": None}
        await payment.documents.put(PAYMENTS, [document | {"next_open_at": utcnow()}])
        assert await open_due(payment.runtime)
        assert (await stored(payment))["orders"][0]["page_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"
        assert list(gateway.transactions) == [("platform", REFERENCE)]

        assert await open_due(payment.runtime)  # nothing more to open
        assert list(gateway.transactions) == [("platform", REFERENCE)]


async def test_a_gateway_that_is_down_delays_opening_and_loses_nothing() -> None:
    async with payment_and_gateway() as sandbox:
        payment, gateway, to_gateway = sandbox.payment, sandbox.gateway, sandbox.to_gateway
        working = to_gateway.target
        await payment.deliver(received(CODE))
        to_gateway.target = None  # unreachable
        assert not await open_due(payment.runtime)
        to_gateway.target = httpx.MockTransport(lambda request: httpx.Response(503))  # failing
        assert not await open_due(payment.runtime)
        document = await stored(payment)
        assert document["state"] == "pending" and document["orders"][0]["page_url"] is None

        to_gateway.target = working
        assert await open_due(payment.runtime)
        assert (await stored(payment))["orders"][0]["page_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"
        opened = gateway.get("platform", REFERENCE)
        assert opened is not None and opened.state == "pending"


async def test_a_payment_the_gateway_refuses_is_tried_again_later_with_backoff() -> None:
    async with payment_and_gateway() as sandbox:
        payment, gateway = sandbox.payment, sandbox.gateway
        known = gateway.config
        gateway.config = replace(known, partner_code="ANOTHER")  # the gateway does not know our partner code
        await payment.deliver(received(CODE))
        assert await open_due(payment.runtime)  # reachable, but it refused
        refused = await stored(payment)
        assert refused["orders"][0]["page_url"] is None and refused["open_attempts"] == 1
        assert refused["next_open_at"] > utcnow() and gateway.transactions == {}

        gateway.config = known
        await open_due(payment.runtime)  # not due yet
        assert (await stored(payment))["open_attempts"] == 1 and gateway.transactions == {}
        await open_due(payment.runtime, now=utcnow() + timedelta(minutes=1))
        assert (await stored(payment))["orders"][0]["page_url"] == f"{GATEWAY_URL}/pay/{REFERENCE}"


async def test_the_whole_loop_the_sandbox_citizen_pays_and_the_notification_completes_the_payment() -> None:
    async with payment_and_gateway(pay_after_s=0.05, open_every_s=0.02) as sandbox:
        payment, gateway = sandbox.payment, sandbox.gateway
        rounds = asyncio.create_task(payment_jobs(payment.runtime))  # the service's own background job
        try:
            await payment.deliver(received(CODE))
            await until(lambda: gateway.get("platform", REFERENCE) is not None)
            transaction = gateway.get("platform", REFERENCE)
            assert transaction is not None
            await until(lambda: transaction.notifications)
        finally:
            rounds.cancel()
        assert transaction.notifications == ['200 {"result":"confirmed"}']
        requested, completed = await payment.emitted()
        assert isinstance(requested, PaymentRequested) and isinstance(completed, PaymentCompleted)
        assert completed.gateway_transaction == transaction.transaction_id
        assert (completed.channel, completed.gateway, completed.method) == ("online", PLATFORM, "gateway")
        assert completed.receipt_number and completed.receipt_number.startswith("BL")
        assert (await stored(payment))["state"] == "paid"


async def test_a_person_pays_on_the_gateways_page_and_payment_is_told() -> None:
    async with payment_and_gateway() as sandbox:
        await sandbox.received()
        page_url = (await stored(sandbox.payment))["orders"][0]["page_url"]
        async with sandbox.browser() as browser:
            page = await browser.get(page_url)
            assert "20.000 ₫" in page.text and "Thanh toán" in page.text
            paid = await browser.post(page_url)  # the "Thanh toán" button: outcome success
            assert "Đã thanh toán" in paid.text
        transaction = sandbox.gateway.get("platform", REFERENCE)
        assert transaction is not None
        await until(lambda: transaction.notifications)
        assert [type(event) for event in await sandbox.payment.emitted()] == [PaymentRequested, PaymentCompleted]
