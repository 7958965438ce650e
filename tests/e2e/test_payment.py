"""Payment on the real stack, with the sandbox gateway process speaking both protocols: a fee
assessed per copy, its pay link and VietQR code, paid at the national platform, its electronic
receipt read back with pdftotext, reconciled with the gateway's statement; the card gateway's
page reached through the pay link, a tampered notification refused and a duplicated one taken
once; a fee paid at the counter by the receiving officer; a paid dossier withdrawn and its fee
paid back through the gateway."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from motcua_contracts import PaymentCompleted, PaymentRefunded, Topic

from infra.dossiers import make_dossier
from infra.stack import Stack
from services.payment import vietqr
from services.runtime.clock import local

from .support import database, events, eventually, portal, wait_until
from .test_digitisation import Official

pytestmark = pytest.mark.e2e
RECEPTION = "h40101.tiepnhan1"
FINANCE = "h40.ketoan1"


@asynccontextmanager
async def citizens_pay_by_hand(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's simulated citizens stop paying by themselves while the test pays (or not)."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as gateway:
        assert (await gateway.post("/sandbox/citizens", params={"pay_after_s": -1})).status_code == 200
        try:
            yield gateway
        finally:
            await gateway.post("/sandbox/citizens", params={"pay_after_s": 1})


async def submit(stack: Stack, code: str, seed: int, channel: str = "online_full", **extra: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=60) as intake:
        procedure = (await intake.get(f"/procedures/{code}")).json()
        body = make_dossier(random.Random(seed), [procedure], [{"code": "H40.101"}], channel=channel) | extra
        if channel.startswith("online"):
            body = await portal(stack, body)
        answer = await intake.post("/dossiers", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def payment_of(stack: Stack, code: str) -> dict[str, Any]:
    return database(stack, "payment")["payments"].find_one({"_id": code}) or {}


async def of_dossier(stack: Stack, topic: Topic, code: str, event_type: str) -> list[Any]:
    return [e.payload() for e in await events(stack, topic) if e.subject == code and e.type == event_type]


async def test_a_fee_per_copy_is_paid_through_its_link_receipted_and_reconciled(stack: Stack) -> None:
    receipt = await submit(stack, "1.003583", seed=401, quantity=3)  # 8,000 VND a copy
    code = receipt["dossier_code"]
    assert receipt["fee_vnd"] == 24000 and [line["quantity"] for line in receipt["fee_lines"]] == [3]
    assert receipt["pay_url"] and receipt["pay_by"]
    async with httpx.AsyncClient(timeout=30) as client:
        page = await eventually(lambda: client.get(receipt["pay_url"]), lambda r: "24.000 ₫" in r.text, 60)
        assert page.status_code == 200
        transfer = page.text.split('<code id="vietqr">')[1].split("</code>")[0]
        fields = vietqr.parse(transfer)
        assert (fields["54"], fields["62.08"], fields["38.01.00"]) == ("24000", code, "970415")
        guessed = await client.get(receipt["pay_url"].split("?")[0], params={"token": "guess"})
        assert guessed.status_code == 404

    # the sandbox's citizen pays the platform's transaction; only its notification confirms it
    await wait_until(lambda: payment_of(stack, code).get("state") == "paid", "the fee to be paid", 90)
    [completed] = await eventually(
        lambda: of_dossier(stack, PaymentCompleted.TOPIC, code, "payment.completed"), lambda found: len(found) == 1
    )
    assert (completed.amount_vnd, completed.channel, completed.gateway) == (24000, "online", "payment-platform")
    assert completed.receipt_number.startswith(f"BL{local(completed.paid_at):%y}E-")
    async with httpx.AsyncClient(timeout=30) as client:
        pdf = await client.get(receipt["pay_url"].replace("?", "/receipt.pdf?", 1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    read = ["pdftotext", "-layout", "-", "-"]
    text = (await asyncio.to_thread(subprocess.run, read, input=pdf.content, capture_output=True, check=True)).stdout
    words = " ".join(text.decode().split())
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in words and completed.receipt_number.split("-")[1] in words
    assert "24.000" in words and "Hai mươi tư nghìn đồng" in words and code in words

    # the finance officer reconciles the platform's statement of the day: our capture is matched
    day = local(completed.paid_at).date().isoformat()
    async with httpx.AsyncClient(timeout=60) as client:
        statement = (await client.get(f"{stack.gateway_url}/statements/platform", params={"day": day})).content
    finance = Official(stack, FINANCE)
    report = await finance.call(
        "payment",
        "POST",
        "/reconciliations",
        params={"gateway": "payment-platform", "day": day},
        content=statement,
        headers={"Content-Type": "text/csv"},
    )
    assert report.status_code == 200, report.text
    assert completed.gateway_transaction in {m["transaction_id"] for m in report.json()["matched"]}
    outsider = await Official(stack, RECEPTION).call(
        "payment",
        "POST",
        "/reconciliations",
        params={"gateway": "payment-platform", "day": day},
        content=statement,
        headers={"Content-Type": "text/csv"},
    )
    assert outsider.status_code == 403
    command = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "infra.cli", "--stack", stack.name, "reconcile", "payment-platform", "--day", day],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert command.returncode in (0, 2), command.stderr  # 2: something else of the day is not balanced
    assert "Đối soát" in command.stdout


async def test_the_card_gateway_refuses_nothing_twice_and_takes_a_tampered_notification_nowhere(stack: Stack) -> None:
    async with citizens_pay_by_hand(stack) as gateway:
        tampered = await submit(stack, "1.004194", seed=402)  # residence: 20,000 VND
        duplicated = await submit(stack, "1.004194", seed=403)
        async with httpx.AsyncClient(timeout=30) as client:
            for receipt, outcome in ((tampered, "tampered"), (duplicated, "duplicate")):
                start = receipt["pay_url"].replace("?", "/start?gateway=card-gateway&", 1)
                redirect = await eventually(lambda s=start: client.get(s), lambda r: r.status_code == 303)
                to_gateway = redirect.headers["location"]
                assert urlsplit(to_gateway).path == "/paymentv2/vpcpay.html" and "vnp_SecureHash=" in to_gateway
                card_page = await client.get(to_gateway)
                assert card_page.status_code == 200 and "20.000 ₫" in card_page.text
                reference = dict(httpx.URL(to_gateway).params)["vnp_TxnRef"]
                paid = await client.post(f"{stack.gateway_url}/paymentv2/pay/{reference}", params={"outcome": outcome})
                assert paid.status_code == 303 and paid.headers["location"].startswith(stack.service_url("payment"))
                receipt["reference"] = reference

        refused = await eventually(
            lambda: gateway.get(f"/sandbox/card/{tampered['reference']}"), lambda r: r.json()["notifications"] != []
        )
        assert refused.json()["notifications"][0].startswith("401")  # bad signature: refused, not sent again
        assert payment_of(stack, tampered["dossier_code"])["state"] == "pending"

        code = duplicated["dossier_code"]
        answered = await eventually(
            lambda: gateway.get(f"/sandbox/card/{duplicated['reference']}"),
            lambda r: len(r.json()["notifications"]) == 3,
        )
        assert sorted(n.split()[0] for n in answered.json()["notifications"]) == ["200", "200", "200"]
        assert payment_of(stack, code)["state"] == "paid"
        ledger = list(database(stack, "payment")["ledger"].find({"dossier_code": code}))
        assert [(e["kind"], e["gateway"], e["amount_vnd"]) for e in ledger] == [("capture", "card-gateway", 20000)]
        assert len(await of_dossier(stack, PaymentCompleted.TOPIC, code, "payment.completed")) == 1


async def test_a_fee_paid_at_the_counter_and_a_withdrawn_dossiers_fee_paid_back(stack: Stack) -> None:
    officer = Official(stack, RECEPTION)
    async with citizens_pay_by_hand(stack) as gateway:
        counter = await submit(stack, "1.004194", seed=404, channel="counter")
        code = counter["dossier_code"]
        claimed = await eventually(
            lambda: officer.call("routing", "POST", f"/dossiers/{code}/claim"), lambda r: r.status_code != 404, 60
        )
        assert claimed.status_code == 200, claimed.text
        cash = {"method": "cash", "amount_vnd": 20000}
        wrong = await eventually(
            lambda: officer.call("payment", "POST", f"/payments/{code}/counter", json=cash | {"amount_vnd": 2000}),
            lambda r: r.status_code != 404,  # payment learns from routing's topic that the officer is on it
            60,
        )
        assert wrong.status_code == 422
        paid = await officer.call("payment", "POST", f"/payments/{code}/counter", json=cash)
        assert paid.status_code == 200, paid.text
        assert (await officer.call("payment", "POST", f"/payments/{code}/counter", json=cash)).status_code == 409
        [completed] = await eventually(
            lambda: of_dossier(stack, PaymentCompleted.TOPIC, code, "payment.completed"), lambda found: len(found) == 1
        )
        assert (completed.channel, completed.method, completed.receipt_number) == (
            "counter",
            "cash",
            paid.json()["receipt_number"],
        )

        online = await submit(stack, "1.004194", seed=405)
        code, token = online["dossier_code"], online["access_token"]
        reference = f"PAY-{code}"
        await eventually(lambda: gateway.get(f"/sandbox/platform/{reference}"), lambda r: r.status_code == 200)
        assert (await gateway.post(f"/sandbox/platform/{reference}", params={"outcome": "success"})).status_code == 200
        await wait_until(lambda: payment_of(stack, code).get("state") == "paid", "the fee to be paid", 60)
        async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as intake:
            owner = (await intake.get(f"/dossiers/{code}/receipt", params={"token": token})).json()
            assert owner["dossier_code"] == code
            asked = await intake.post(
                f"/dossiers/{code}/withdrawal",
                params={"token": token},
                json={"owner": online_phone(stack, code), "reason": "Không còn nhu cầu"},
            )
            assert asked.status_code == 202, asked.text
        [refunded] = await eventually(
            lambda: of_dossier(stack, PaymentRefunded.TOPIC, code, "payment.refunded"),
            lambda found: len(found) == 1,
            120,
        )
        assert (refunded.amount_vnd, refunded.reason, refunded.gateway) == (
            20000,
            "dossier withdrawn",
            "payment-platform",
        )
        seen = (await gateway.get(f"/sandbox/platform/{reference}")).json()
        assert len(seen["refunds"]) == 1
        kinds = sorted(e["kind"] for e in database(stack, "payment")["ledger"].find({"dossier_code": code}))
        assert kinds == ["capture", "refund"]


def online_phone(stack: Stack, code: str) -> str:
    """The owner's phone, as intake keeps it (the withdrawal names its owner)."""
    return database(stack, "intake")["dossiers"].find_one({"_id": code})["contact"]["phone"]
