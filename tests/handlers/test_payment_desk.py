"""What people see of payment: the citizen's payment page (its lines, its gateways, its VietQR code,
its pay token), the receiving officer's counter payment and the electronic receipt it issues,
officials' view of a payment, and the finance officers' reconciliation of a gateway's statement
with the ledger; in process with the real sandbox gateway."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from motcua_contracts import PaymentCompleted

from services.payment.gateways import sorted_hmac as card
from services.payment.gateways.platform import LABEL as PLATFORM_LABEL
from services.payment.jobs import expire_due, refund_due
from services.payment.ledger import LEDGER
from services.payment.vietqr import parse
from services.runtime import utcnow
from services.runtime.clock import local

from .events import charged, received, refused, step_started
from .payment_support import (
    CARD,
    CODE,
    FINANCE,
    GATEWAY_URL,
    HMAC_SECRET,
    OFFICER,
    PLATFORM,
    REFERENCE,
    Sandbox,
    ledger,
    official,
    payment_alone,
    payment_and_gateway,
    stored,
    token_of,
)

OTHER_OFFICER = "h40101.tiepnhan2"


def pdf_text(content: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (not our PDF library), whitespace collapsed."""
    out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


async def test_the_payment_page_shows_the_fee_the_gateways_and_a_vietqr_code_to_the_token_holder_only() -> None:
    async with payment_and_gateway() as sandbox:
        await sandbox.payment.deliver(charged(CODE, ("Phí cấp bản sao trích lục hộ tịch", 8000, 3)))
        async with sandbox.browser() as browser:
            page = await browser.get(f"/pay/{CODE}", params={"token": token_of()})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "24.000 ₫" in page.text and "3 bản × 8.000 ₫" in page.text
            assert PLATFORM_LABEL in page.text and card.LABEL in page.text
            assert f"/pay/{CODE}/start?gateway={CARD}&amp;token={token_of()}" in page.text
            assert "<svg" in page.text  # the QR code itself, drawn in the page
            transfer = page.text.split('<code id="vietqr">')[1].split("</code>")[0]
            fields = parse(transfer)  # its CRC checked
            assert (fields["54"], fields["62.08"], fields["53"]) == ("24000", CODE, "704")
            assert (fields["38.01.00"], fields["38.01.01"]) == ("970415", "113366668888")

            for token in ("guess", "", token_of("H40.101-261124-0002")):
                assert (await browser.get(f"/pay/{CODE}", params={"token": token})).status_code == 404
            assert (await browser.get(f"/pay/{CODE}")).status_code == 404

            # a fee not known yet (its dossier just received): the page waits, to the token holder only
            later = "H40.101-261124-0002"
            waiting = await browser.get(f"/pay/{later}", params={"token": token_of(later)})
            assert waiting.status_code == 200 and "đang chuẩn bị" in waiting.text


async def test_starting_at_the_card_gateway_sends_the_browser_to_its_signed_page() -> None:
    async with payment_and_gateway() as sandbox:
        await sandbox.received()
        started = await sandbox.start(CARD)
        assert started.status_code == 303
        location = started.headers["location"]
        assert location.startswith(f"{GATEWAY_URL}{card.PAY_PATH}?")
        params = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        assert card.verified(params, HMAC_SECRET)
        assert (params["vnp_TxnRef"], params["vnp_Amount"]) == (f"{REFERENCE}-2", "2000000")
        assert params["vnp_ReturnUrl"] == f"http://payment/pay/{CODE}?token={token_of()}"
        transaction, problem = sandbox.gateway.card_open(params)  # the sandbox takes the signed order
        assert problem == "" and transaction is not None and transaction.amount_vnd == 20000

        assert (await sandbox.start(CARD)).headers["location"] == location  # clicked twice: the same order
        platform = await sandbox.start(PLATFORM)
        assert platform.status_code == 303 and platform.headers["location"] == f"{GATEWAY_URL}/pay/{REFERENCE}"
        assert (await sandbox.start("bitcoin")).status_code == 404
        assert (await sandbox.start(CARD, token="guess")).status_code == 404
        assert len((await stored(sandbox.payment))["orders"]) == 2


async def pay_at_counter(client: Any, headers: dict[str, str], **body: Any) -> Any:
    return await client.post(
        f"/payments/{CODE}/counter", json={"method": "cash", "amount_vnd": 20000} | body, headers=headers
    )


async def test_the_receiving_officer_records_a_counter_payment_once_and_its_receipt_downloads() -> None:
    async with payment_alone() as payment, payment.http() as client:
        await payment.deliver(received(CODE))
        await payment.deliver(step_started(CODE, OFFICER))  # routing put the officer on the dossier
        await payment.emitted()
        officer = await official(OFFICER)
        not_yet = await client.get(f"/pay/{CODE}/receipt.pdf", params={"token": token_of()})
        assert not_yet.status_code == 409

        assert (await pay_at_counter(client, {})).status_code == 401
        assert (await pay_at_counter(client, await official(OTHER_OFFICER))).status_code == 404  # not on the dossier
        wrong = await pay_at_counter(client, officer, amount_vnd=2000)
        assert wrong.status_code == 422 and "20000" in wrong.json()["detail"]

        paid = await pay_at_counter(client, officer)
        assert paid.status_code == 200, paid.text
        number = paid.json()["receipt_number"]
        assert number.startswith("BL") and number.endswith("-0000001")
        assert paid.json()["receipt_url"] == f"http://payment/pay/{CODE}/receipt.pdf?token={token_of()}"
        assert (await pay_at_counter(client, officer)).status_code == 409  # twice
        assert (await pay_at_counter(client, officer, method="card")).status_code == 409

        [completed] = await payment.emitted()
        assert isinstance(completed, PaymentCompleted)
        assert (completed.channel, completed.gateway, completed.method, completed.receipt_number) == (
            "counter",
            None,
            "cash",
            number,
        )
        assert completed.gateway_transaction == number
        [entry] = await ledger(payment)
        assert (entry["channel"], entry["gateway"], entry["transaction_id"], entry["receipt_number"]) == (
            "counter",
            "counter",
            number,
            number,
        )
        assert (await stored(payment))["captured"]["recorded_by"] == OFFICER

        pdf = await client.get(f"/pay/{CODE}/receipt.pdf", params={"token": token_of()})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        series, serial = number.rsplit("-", 1)
        assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text.upper()
        assert f"Ký hiệu: {series}" in text and f"Số: {serial}" in text and CODE in text
        assert "20.000 đồng" in text and "Tiền mặt tại quầy" in text
        assert (await client.get(f"/pay/{CODE}/receipt.pdf", params={"token": "guess"})).status_code == 404

        seen = await client.get(f"/payments/{CODE}", headers=officer)
        assert seen.status_code == 200 and seen.json()["state"] == "paid"
        assert [e["entry_id"] for e in seen.json()["ledger"]] == [entry["_id"]]
        assert (await client.get(f"/payments/{CODE}", headers=await official(OTHER_OFFICER))).status_code == 404


async def test_a_counter_payment_of_an_expired_fee_is_taken_and_of_a_cancelled_one_refused() -> None:
    async with payment_alone() as payment, payment.http() as client:
        await payment.deliver(received(CODE, pay_by=utcnow() + timedelta(seconds=1)))
        await payment.deliver(step_started(CODE, OFFICER))
        document = await stored(payment)
        assert await expire_due(payment.runtime, document["expires_at"] + timedelta(seconds=1))
        officer = await official(OFFICER)
        assert (await pay_at_counter(client, officer, method="card")).status_code == 200

        other = "H40.101-261124-0002"
        await payment.deliver(received(other))
        await payment.deliver(step_started(other, OFFICER))
        await payment.deliver(refused(other))
        cancelled = await client.post(
            f"/payments/{other}/counter", json={"method": "cash", "amount_vnd": 20000}, headers=officer
        )
        assert cancelled.status_code == 409


async def settled_day(sandbox: Sandbox) -> dict[str, str]:
    """Three dossiers paid at the platform, the third refused and paid back, a fourth at the card
    gateway, a fifth declined: the statements' lines of today."""
    codes = [f"H40.101-261124-000{n}" for n in range(1, 6)]
    for code in codes:
        await sandbox.received(code)
    for code in codes[:3]:
        await sandbox.pay("platform", f"PAY-{code}")
    await sandbox.pay("platform", f"PAY-{codes[4]}", "failed")
    await sandbox.pay("card", (await sandbox.card_order(codes[3])).reference)
    await sandbox.payment.deliver(refused(codes[2]))
    assert await refund_due(sandbox.payment.runtime)
    day = local(utcnow()).date()
    return {
        "day": day.isoformat(),
        "platform": sandbox.gateway.statement("platform", day),
        "card": sandbox.gateway.statement("card", day),
    }


async def reconcile(sandbox: Sandbox, gateway: str, day: str, statement: str, who: str = FINANCE) -> Any:
    async with sandbox.payment.http() as client:
        return await client.post(
            "/reconciliations",
            params={"gateway": gateway, "day": day},
            content=statement.encode(),
            headers=await official(who) | {"Content-Type": "text/csv"},
        )


async def test_the_gateways_statement_reconciles_with_the_ledger_and_what_is_missing_is_named() -> None:
    async with payment_and_gateway() as sandbox:
        day = await settled_day(sandbox)
        statement = day["platform"]
        assert statement.count("\n") == 1 + 5  # header, three payments, one declined, one refund

        balanced = await reconcile(sandbox, PLATFORM, day["day"], statement)
        assert balanced.status_code == 200, balanced.text
        report = balanced.json()
        assert report["balanced"] is True
        assert (report["counts"]["matched"], report["counts"]["failed_lines"]) == (4, 1)
        assert (report["totals"]["ledger_captured_vnd"], report["totals"]["ledger_refunded_vnd"]) == (60000, 20000)
        assert "KHỚP (balanced)" in report["text"]
        card_report = (await reconcile(sandbox, CARD, day["day"], day["card"])).json()
        assert card_report["balanced"] is True and card_report["counts"]["matched"] == 1

        # a line the ledger lacks (a notification that never reached us)
        [capture] = await sandbox.payment.documents.find(LEDGER, {"dossier_code": "H40.101-261124-0001"})
        await sandbox.payment.documents.delete(LEDGER, [capture["_id"]])
        missing = (await reconcile(sandbox, PLATFORM, day["day"], statement)).json()
        assert missing["balanced"] is False
        assert [(m["kind"], m["transaction_id"]) for m in missing["missing_in_ledger"]] == [
            ("capture", capture["transaction_id"])
        ]
        await sandbox.payment.documents.put(LEDGER, [capture])

        # an entry the statement lacks
        refund_line = next(line for line in statement.splitlines() if ",refund," in line)
        without = "".join(f"{line}\n" for line in statement.splitlines() if line != refund_line)
        short = (await reconcile(sandbox, PLATFORM, day["day"], without)).json()
        assert short["balanced"] is False and short["missing_in_ledger"] == []
        assert [(m["kind"], m["transaction_id"], m["dossier_code"]) for m in short["missing_in_statement"]] == [
            ("refund", refund_line.split(",")[0], "H40.101-261124-0003")
        ]

        async with sandbox.payment.http() as client:
            kept = await client.get(f"/reconciliations/{short['id']}", headers=await official(FINANCE))
            assert kept.status_code == 200 and kept.json()["by"] == FINANCE and kept.json()["balanced"] is False
            other = await client.get(f"/reconciliations/{short['id']}", headers=await official(OFFICER))
            assert other.status_code == 403


async def test_only_finance_officers_reconcile() -> None:
    async with payment_and_gateway() as sandbox:
        day = local(utcnow()).date().isoformat()
        header = "transaction_id,reference,type,amount_vnd,status,settled_at\n"
        assert (await reconcile(sandbox, PLATFORM, day, header, who=OFFICER)).status_code == 403
        assert (await reconcile(sandbox, "bitcoin", day, header)).status_code == 404
        assert (await reconcile(sandbox, PLATFORM, day, "not,a,statement\n")).status_code == 400
        empty = await reconcile(sandbox, PLATFORM, day, header)
        assert empty.status_code == 200 and empty.json()["balanced"] is True
