"""Intake against the real stack: idempotent submissions, and gap-free dossier codes
with two intake replicas taking submissions in parallel."""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from motcua_contracts import DossierWithdrawalRequested, DossierWithdrawn, PaymentCancelled, Topic

from infra.dossiers import make_dossier
from infra.stack import GATEWAY, Stack

from .support import database, events, eventually, portal, submit_until_received, wait_until

pytestmark = pytest.mark.e2e


def pdf_text(path: Path) -> str:
    """The text of a PDF as poppler's pdftotext reads it, whitespace collapsed."""
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


async def catalogue(client: httpx.AsyncClient) -> tuple[list[dict], list[dict]]:
    procedures = (await client.get("/procedures")).json()["procedures"]
    return procedures, (await client.get("/communes")).json()


async def test_retried_and_double_clicked_submissions_create_one_dossier(stack: Stack) -> None:
    dossiers = database(stack, "intake")["dossiers"]
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as client:
        procedures, communes = await catalogue(client)
        body = await portal(stack, make_dossier(random.Random(21), procedures, communes))
        before = dossiers.count_documents({})
        headers = {"Idempotency-Key": "portal-7f3a9c21-0001"}
        # a double click: five identical requests at once, then a retry later
        burst = await asyncio.gather(*(client.post("/dossiers", json=body, headers=headers) for _ in range(5)))
        retry = await client.post("/dossiers", json=body, headers=headers)
        codes = {r.json()["dossier_code"] for r in [*burst, retry]}
        assert len(codes) == 1
        assert sorted(r.status_code for r in burst) == [200, 200, 200, 200, 201]
        assert retry.status_code == 200 and retry.json() == burst[0].json()
        assert dossiers.count_documents({}) == before + 1

        other = await portal(stack, make_dossier(random.Random(22), procedures, communes))
        reused = await client.post("/dossiers", json=other, headers=headers)
        assert reused.status_code == 409
        assert "different submission" in reused.text
        assert dossiers.count_documents({}) == before + 1


async def test_two_intake_replicas_issue_unique_gap_free_codes(stack: Stack) -> None:
    stack.start_service("intake", replica=2)
    await asyncio.to_thread(stack.wait_ready, "intake", 90, 2)
    try:
        commune = "H40.230"
        async with (
            httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=60) as first,
            httpx.AsyncClient(base_url=stack.service_url("intake", replica=2), timeout=60) as second,
        ):
            procedures, communes = await catalogue(first)
            rng = random.Random(23)
            bodies = [
                await portal(stack, make_dossier(rng, procedures, communes) | {"commune_code": commune})
                for _ in range(60)
            ]
            day_key = time.time_ns()
            # all at once: beyond what a replica takes in flight, it answers 503 and the portal
            # sends the same submission again (same Idempotency-Key) after Retry-After
            responses = await asyncio.gather(
                *(
                    submit_until_received(first if i % 2 else second, body, key=f"gap-free-{i}-{day_key}")
                    for i, body in enumerate(bodies)
                )
            )
        assert [r.status_code for r in responses] == [201] * 60, [r.text for r in responses if r.status_code != 201]
        codes = [r.json()["dossier_code"] for r in responses]
        assert len(set(codes)) == 60
        # every dossier of that unit today, from whichever replica, numbered 1..N without a gap
        day = codes[0].split("-")[1]
        stored = [
            d["_id"]
            for d in database(stack, "intake")["dossiers"].find({"_id": {"$regex": f"^{re.escape(commune)}-{day}-"}})
        ]
        numbers = sorted(int(code.rsplit("-", 1)[1]) for code in stored)
        assert numbers == list(range(1, len(numbers) + 1))
        assert set(codes) <= set(stored)
    finally:
        stack.stop("intake-2")


async def test_receipt_slip_pdf_reads_in_vietnamese_and_its_qr_links_to_tracking(stack: Stack, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as client:
        procedures, communes = await catalogue(client)
        procedure = next(p for p in procedures if p["code"] == "1.009994")
        body = await portal(stack, make_dossier(random.Random(24), [procedure], communes))
        receipt = (await client.post("/dossiers", json=body)).json()
        response = await client.get(f"/dossiers/{receipt['dossier_code']}/receipt.pdf?token={receipt['access_token']}")
        stranger = await client.get(f"/dossiers/{receipt['dossier_code']}/receipt.pdf?token=guess")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert stranger.status_code == 404
    (tmp_path / "slip.pdf").write_bytes(response.content)

    def run(*command: str) -> str:
        return subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, text=True).stdout

    text = pdf_text(tmp_path / "slip.pdf")  # poppler, not our PDF library
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert f"Mã hồ sơ: {receipt['dossier_code']}" in text
    assert body["applicant"]["name"] in text
    assert "Cấp giấy phép xây dựng nhà ở riêng lẻ" in text
    for component in procedure["components"]:
        assert component["name"] in text
    due = datetime.fromisoformat(receipt["due_at"])
    assert f"17 giờ 00, ngày {due:%d/%m/%Y}" in text
    assert "75.000 đồng" in text

    run("pdftoppm", "-png", "-r", "150", "-singlefile", "slip.pdf", "slip")
    qr = run("zbarimg", "-q", "--raw", "slip.png").strip()
    assert qr == f"{stack.service_url('intake')}/track?code={receipt['dossier_code']}"


async def test_a_withdrawal_is_the_owners_request_that_routing_answers_and_the_fee_is_no_longer_asked(
    stack: Stack,
) -> None:
    # The gateway is away, so the fee stays unpaid while the citizen changes their mind.
    stack.stop(GATEWAY)
    try:
        async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as client:
            procedures, communes = await catalogue(client)
            procedure = next(p for p in procedures if p["code"] == "1.004194")  # residence: 20,000 VND fee
            body = await portal(stack, make_dossier(random.Random(25), [procedure], communes))
            receipt = (await client.post("/dossiers", json=body)).json()
            code, owner = receipt["dossier_code"], body["applicant"]["phone"]
            withdrawal = f"/dossiers/{code}/withdrawal?token={receipt['access_token']}"
            stranger = await client.post(withdrawal, json={"owner": "0900000002", "reason": "Thử"})
            assert stranger.status_code == 404
            # the code and the owner's phone are not enough: the receipt's token is needed
            tokenless = await client.post(f"/dossiers/{code}/withdrawal", json={"owner": owner, "reason": "Thử"})
            assert tokenless.status_code == 404
            asked = await client.post(withdrawal, json={"owner": owner, "reason": "Không còn nhu cầu"})
            assert asked.status_code == 202 and asked.json()["status"] == "withdrawal_requested"
            twice = await client.post(withdrawal, json={"owner": owner, "reason": "Lần nữa"})
            assert twice.status_code == 409

            async def history() -> list[str]:
                found = (await client.post("/api/track", json={"code": code, "owner": owner})).json()
                return [step["status"] for step in found["history"]]

            steps = await eventually(history, lambda found: "Công dân đã rút hồ sơ" in found)
            assert "Công dân đề nghị rút hồ sơ" in steps and "Công dân đã rút hồ sơ" in steps
            again = await client.post(withdrawal, json={"owner": owner, "reason": "Rút lần nữa"})
            assert again.status_code == 409 and "withdrawn" in again.text

        async def mine(topic: Topic) -> list[str]:
            return [e.type for e in await events(stack, topic) if e.subject == code]

        assert await mine(DossierWithdrawalRequested.TOPIC) == ["dossier.received", "dossier.withdrawal_requested"]
        assert "dossier.withdrawn" in await mine(DossierWithdrawn.TOPIC)
        payments = await eventually(lambda: mine(PaymentCancelled.TOPIC), lambda found: "payment.cancelled" in found)
        assert payments == ["payment.requested", "payment.cancelled"]
    finally:
        stack.start_outside_parties()
        stack.wait_outside_parties_ready()
    # with the gateway back, the cancelled fee is never opened nor paid
    await wait_until(lambda: bool(database(stack, "payment")["payments"].find_one({"_id": code})), "the payment record")
    payment = database(stack, "payment")["payments"].find_one({"_id": code})
    assert payment["state"] == "cancelled" and payment["orders"][0]["page_url"] is None
