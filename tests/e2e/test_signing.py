"""Signing against the real stack: leaders sign with their certificates in the PKCS#11 token,
the timestamps come from the TSA process, the revocation data from the CA process; poppler's
pdfsig trusts the result; the public page the QR code opens works in a real browser; a batch
interrupted by a kill -9 of signing is finished by the retry, each result signed once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from motcua_contracts import ResultSigned

from infra.stack import Stack
from tests.e2e.support import database, events, eventually, officials, submit_dossiers, wait_until

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(".data") / "test" / "screenshots"


def token(stack: Stack, official: str) -> dict[str, str]:
    response = httpx.post(f"{stack.issuer_url}/token", data={"username": official}, timeout=10)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run(*command: str) -> str:
    """The command's output (its complaints on stderr are its own business)."""
    return subprocess.run(command, capture_output=True, text=True).stdout


def pdfsig(stack: Stack, pdf: Path) -> str:
    """poppler's verdict, with the stack's root CA in an NSS database of its own (poppler asks
    the CA's OCSP responder itself)."""
    nss = pdf.parent / "nss"
    if not nss.exists():
        nss.mkdir()
        run("certutil", "-N", "-d", f"sql:{nss}", "--empty-password")
        run(
            "certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(stack.pki_dir / "root-ca.pem")
        )
    return run("pdfsig", "-nssdir", f"sql:{nss}", str(pdf))


async def signed_result(stack: Stack, seed: int) -> tuple[dict[str, Any], bytes]:
    """One dossier taken to its signed result by the simulated officials; its receipt and PDF."""
    async with officials(stack) as working:
        [receipt] = await submit_dossiers(stack, 1, 1, seed)
        working.add(receipt["dossier_code"], owner=receipt.get("phone"))
        assert not await working.wait([receipt["dossier_code"]], timeout=300), working.tally.problems
    code = f"{receipt['dossier_code']}-KQ1"
    async with httpx.AsyncClient(base_url=stack.service_url("signing"), timeout=30) as client:
        pdf = await client.get(f"/results/{code}", params={"token": receipt["access_token"]})
        anonymous = await client.get(f"/results/{code}")  # the result is the owner's, not everyone's
    assert anonymous.status_code == 404
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", pdf.text
    return receipt, pdf.content


async def test_a_signed_result_is_trusted_by_poppler_and_checked_on_the_public_page_in_a_browser(
    stack: Stack, tmp_path: Path
) -> None:
    receipt, pdf = await signed_result(stack, seed=101)
    path = tmp_path / "result.pdf"
    path.write_bytes(pdf)
    verdict = await asyncio.to_thread(pdfsig, stack, path)
    assert verdict.count("Signature is Valid.") == 2, verdict
    assert verdict.count("Certificate is Trusted.") == 2, verdict
    # the QR code on the paper opens the public page
    await asyncio.to_thread(run, "pdftoppm", "-png", "-r", "150", "-l", "1", str(path), str(tmp_path / "page"))
    url = (await asyncio.to_thread(run, "zbarimg", "--raw", "-q", str(tmp_path / "page-1.png"))).strip()
    assert url == f"{stack.service_url('signing')}/verify/{receipt['dossier_code']}-KQ1"
    tampered = bytearray(pdf)
    at = tampered.index(b"/CreationDate (D:") + len(b"/CreationDate (D:") + 3
    tampered[at] = ord("0") + (tampered[at] - ord("0") + 1) % 10
    (tmp_path / "tampered.pdf").write_bytes(bytes(tampered))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        await page.goto(url)
        await page.wait_for_selector("#signer")
        registered = await page.inner_text("#registered")
        await page.set_input_files("#file", str(path))
        await page.wait_for_selector("#verdict")
        genuine = await page.inner_text("#report")
        await page.screenshot(path=str(SCREENSHOTS / "verify-genuine.png"), full_page=True)
        await page.set_input_files("#file", str(tmp_path / "tampered.pdf"))
        await page.locator(
            "#verdict", has_text="không hợp lệ"
        ).wait_for()  # (the page forbids eval: no wait_for_function)
        changed = await page.inner_text("#report")
        await page.screenshot(path=str(SCREENSHOTS / "verify-tampered.png"), full_page=True)
        await page.goto(f"{stack.service_url('signing')}/verify/H40.101-000000-0000-KQ1")
        await page.wait_for_selector("#unknown")
        await browser.close()
    async with httpx.AsyncClient(base_url=stack.service_url("signing"), timeout=10) as client:
        facts = (await client.get(f"/api/verify/{receipt['dossier_code']}-KQ1")).json()
    assert facts["signed_by"] in registered and facts["sealed_by"] in registered and "PAdES-B-LT" in registered
    assert "Văn bản hợp lệ" in genuine and "nội dung không bị thay đổi sau khi ký" in genuine
    assert "Văn bản không hợp lệ" in changed and "nội dung đã bị thay đổi" in changed


async def test_a_batch_cut_by_a_kill_of_signing_is_finished_by_the_retry_each_result_signed_once(
    stack: Stack,
) -> None:
    """The leaders approve twenty results and sign them, each leader in one request; signing is
    killed -9 while it works; they ask again: every result signed, each exactly once."""
    async with officials(stack) as working:
        working.desk.signing.approved = lambda official, code: None  # type: ignore[method-assign] # signed below
        receipts = await submit_dossiers(stack, 20, 5, seed=202, on_receipt=lambda r: working.add(r["dossier_code"]))
        codes = [f"{r['dossier_code']}-KQ1" for r in receipts]
        results = database(stack, "signing")["results"]
        await wait_until(
            lambda: results.count_documents({"_id": {"$in": codes}}) == len(codes), "twenty approvals", 300
        )
        batches: dict[str, list[str]] = {}
        for record in results.find({"_id": {"$in": codes}}):
            batches.setdefault(record["approver_id"], []).append(record["_id"])
        async with httpx.AsyncClient(base_url=stack.service_url("signing"), timeout=60) as client:

            def sign(leader: str) -> Any:
                return client.post("/signatures", json={"results": batches[leader]}, headers=token(stack, leader))

            requests = [asyncio.create_task(sign(leader)) for leader in batches]
            await wait_until(
                lambda: results.count_documents({"_id": {"$in": codes}, "state": "signed"}) >= 1,
                "a first signature",
                120,
            )
            stack.stop("signing", signal.SIGKILL)
            await asyncio.gather(*requests, return_exceptions=True)  # cut short, or done before the kill
            stack.start_service("signing")
            stack.wait_ready("signing")
            answers = [
                (await eventually(lambda leader=leader: sign(leader), lambda r: r.status_code == 200)).json()
                for leader in batches
            ]
        unsettled = await working.wait([r["dossier_code"] for r in receipts], timeout=300)
        assert not unsettled, working.tally.problems
    assert not [a for a in answers if a["refused"]]
    done = {result for a in answers for result in (*(s["result_code"] for s in a["signed"]), *a["already_signed"])}
    assert done == set(codes)
    announced = [
        e
        for e in await events(stack, ResultSigned.TOPIC)
        if e.type == ResultSigned.TYPE and e.data["result_code"] in codes
    ]
    assert sorted(e.data["result_code"] for e in announced) == sorted(codes)  # each once
    assert results.count_documents({"_id": {"$in": codes}, "state": "signed"}) == len(codes)
