"""Digitisation on the real stack: files kept once in GridFS and bad ones refused with nothing
stored; a counter dossier's paper scanned by the officer who received it, assembled, signed at
signing with their own certificate, verifiable, recognised and found without diacritics; a
signed result archived in its owner's e-data store and reused by their next dossier, without
asking them for it."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import httpx
import pytest
from motcua_contracts import DossierDigitised, ResultArchived
from pymongo import MongoClient

from infra.dossiers import make_dossier
from infra.officers import Officers
from infra.scanner import paper_component
from infra.stack import Stack
from services.runtime.files import FILES_DATABASE
from tests.samples import BAD_FILES, pdf, vietnamese_scan

from .support import EVERY_DOSSIER_COMPLETES, database, events, eventually, portal, wait_until

pytestmark = pytest.mark.e2e
RECEPTION = "h40101.tiepnhan1"
PDF = "application/pdf"


def stored_files(stack: Stack) -> int:
    return MongoClient(stack.mongo_url)[FILES_DATABASE]["fs.files"].count_documents({})


class Official:
    """An official with a token from the development issuer, at digitisation, signing and routing."""

    def __init__(self, stack: Stack, official: str) -> None:
        token = httpx.post(f"{stack.issuer_url}/token", data={"username": official}, timeout=10).json()
        self.id, self.stack = official, stack
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}

    async def call(self, service: str, method: str, path: str, **options: Any) -> httpx.Response:
        headers = options.pop("headers", {}) | self.headers
        async with httpx.AsyncClient(base_url=self.stack.service_url(service), timeout=60) as client:
            return await client.request(method, path, headers=headers, **options)

    async def scan(self, code: str, component: str, *pages: bytes) -> dict[str, Any]:
        """Scan the paper, sign the assembled copy at signing, hand it back: the component's document."""
        files = [("pages", (f"trang-{i}.jpg", page, "image/jpeg")) for i, page in enumerate(pages, start=1)]
        copy = await eventually(  # digitisation learns from routing's topic that the claim made it ours
            lambda: self.call(
                "digitisation", "POST", f"/dossiers/{code}/scans", data={"component": component}, files=files
            ),
            lambda r: r.status_code != 404,
            60,
        )
        assert copy.status_code == 201, copy.text
        pdf_copy = await self.call("digitisation", "GET", copy.json()["copy_url"])
        signed = await self.call(
            "signing", "POST", "/scans/signature", content=pdf_copy.content, headers={"Content-Type": PDF}
        )
        assert signed.status_code == 200, signed.text
        kept = await self.call(
            "digitisation",
            "POST",
            f"/scans/{copy.json()['scan_id']}/signed",
            content=signed.content,
            headers={"Content-Type": PDF},
        )
        assert kept.status_code == 200, kept.text
        return kept.json()


async def test_bad_files_are_refused_over_http_and_nothing_is_stored(stack: Stack) -> None:
    url = f"{stack.service_url('digitisation')}/documents"
    async with httpx.AsyncClient(timeout=60) as client:
        good = await client.post(url, files={"file": ("don.pdf", pdf(), "application/pdf")})
        assert good.status_code == 201, good.text
        before = stored_files(stack), database(stack, "digitisation")["uploads"].count_documents({})
        for name, (content, problem, status) in BAD_FILES.items():
            answer = await client.post(url, files={"file": ("giay-to.pdf", content, "application/pdf")})
            assert (answer.status_code, answer.json()["detail"]["problem"]) == (status, problem), (name, answer.text)
        after = stored_files(stack), database(stack, "digitisation")["uploads"].count_documents({})
    assert after == before
    kept = MongoClient(stack.mongo_url)[FILES_DATABASE]["fs.files"].find_one({"_id": good.json()["sha256"]})
    assert kept is not None and kept["length"] == good.json()["size"]


async def test_a_counter_dossier_is_scanned_signed_by_its_officer_recognised_and_searchable(stack: Stack) -> None:
    officer, outsider = Official(stack, RECEPTION), Official(stack, "h40102.tiepnhan1")
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as intake:
        procedure = (await intake.get("/procedures/1.004194")).json()  # residence: two components
        body = make_dossier(random.Random(301), [procedure], [{"code": "H40.101"}], channel="counter")
        receipt = (await intake.post("/dossiers", json=body)).json()
    code, token = receipt["dossier_code"], receipt["access_token"]
    claimed = await eventually(
        lambda: officer.call("routing", "POST", f"/dossiers/{code}/claim"), lambda r: r.status_code != 404, 60
    )
    assert claimed.status_code == 200, claimed.text
    assert (await outsider.call("digitisation", "GET", f"/dossiers/{code}/documents")).status_code == 404

    first, second = [c["name"] for c in body["components"]]
    scanned = await officer.scan(code, first, vietnamese_scan(seed=11))
    assert scanned["signer"]["official"] == RECEPTION and scanned["pages"] == 1
    await officer.scan(code, second, paper_component(second, "Lê Thị Hoa"), paper_component(second, "Lê Thị Hoa", 2))

    digitised = await eventually(
        lambda: events(stack, DossierDigitised.TOPIC),
        lambda found: any(e.subject == code and e.type == "dossier.digitised" for e in found),
        60,
    )
    [event] = [e.payload() for e in digitised if e.subject == code and e.type == "dossier.digitised"]
    assert isinstance(event, DossierDigitised)
    assert (event.components_scanned, event.components_uploaded, event.unit) == (2, 0, "H40.101")
    assert {c.digitised_by for c in event.components} == {RECEPTION}
    await wait_until(
        lambda: (database(stack, "routing")["dossiers"].find_one({"_id": code}) or {}).get("digitised") is True,
        "routing to learn the dossier is digitised",
    )

    # the stored copy carries the officer's signature, which anyone can check at signing
    copy = await officer.call("digitisation", "GET", f"/documents/{code}-TP1")
    assert hashlib.sha256(copy.content).hexdigest() == event.components[0].sha256
    async with httpx.AsyncClient(base_url=stack.service_url("signing"), timeout=60) as signing:
        report = (await signing.post("/verification", content=copy.content, headers={"Content-Type": PDF})).json()
    assert report["valid"] is True and report["signatures"][0]["signer"] == "Trần Thị Thu"
    # the owner reads the dossier's copies with the receipt's token; a stranger does not
    async with httpx.AsyncClient(base_url=stack.service_url("digitisation"), timeout=30) as digitisation:
        owned = await digitisation.get(f"/documents/{code}-TP2", params={"token": token})
        assert owned.status_code == 200 and owned.content.startswith(b"%PDF-")
        assert (await digitisation.get(f"/documents/{code}-TP2", params={"token": "guess"})).status_code == 404

    # recognised in a worker process, then found by the officer without diacritics
    found = await eventually(
        lambda: officer.call("digitisation", "GET", "/search", params={"q": "giay khai sinh nguyen thi huong"}),
        lambda r: r.status_code == 200 and any(d["id"] == f"{code}-TP1" for d in r.json()["documents"]),
        180,
    )
    assert any(d["id"] == f"{code}-TP1" for d in found.json()["documents"]), found.text
    nothing = await outsider.call("digitisation", "GET", "/search", params={"q": "giay khai sinh nguyen thi huong"})
    assert f"{code}-TP1" not in {d["id"] for d in nothing.json()["documents"]}


async def test_a_signed_result_is_reused_by_the_owners_next_procedure(stack: Stack) -> None:
    applicant = {"name": "Phạm Thị Ngọc", "phone": "0915000301", "identity_number": "038190000301"}
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as intake:
        birth = (await intake.get("/procedures/1.001193")).json()  # birth registration: its result, a Giấy khai sinh
        insurance = (await intake.get("/procedures/1.011450")).json()  # a child's health insurance card needs one
        first = make_dossier(random.Random(302), [birth], [{"code": "H40.101"}], channel="online_full")
        async with Officers.for_stack(stack, EVERY_DOSSIER_COMPLETES) as working:  # following routing from now
            submitted = await intake.post("/dossiers", json=await portal(stack, first | {"applicant": applicant}))
            code = submitted.json()["dossier_code"]
            working.add(code, owner=applicant["phone"])
            assert not await working.wait([code], timeout=300), working.tally.problems
        archived = await eventually(
            lambda: events(stack, ResultArchived.TOPIC),
            lambda found: any(e.subject == code and e.type == "result.archived" for e in found),
            60,
        )
        [result] = [e.payload() for e in archived if e.subject == code and e.type == "result.archived"]
        assert isinstance(result, ResultArchived) and result.kind == "giay-khai-sinh"
        assert result.owner is not None and applicant["identity_number"] not in result.model_dump_json()

        # the second procedure: the citizen gives only the form; the birth certificate comes from their store
        second = make_dossier(random.Random(303), [insurance], [{"code": "H40.101"}], channel="online_full")
        second["components"] = [c for c in second["components"] if c["name"] != "Giấy khai sinh"]
        payload = await portal(stack, second | {"applicant": applicant})
        submitted = await eventually(
            lambda: intake.post("/dossiers", json=payload),
            lambda r: r.status_code == 201,  # intake learns of the archived result from digitisation's topic
            60,
        )
        assert submitted.status_code == 201, submitted.text
        receipt = submitted.json()
        assert receipt["reused_components"] == ["Giấy khai sinh"]

    reuse = receipt["dossier_code"]
    async with httpx.AsyncClient(base_url=stack.service_url("digitisation"), timeout=30) as digitisation:
        listing = await eventually(
            lambda: digitisation.get(f"/dossiers/{reuse}/documents", params={"token": receipt["access_token"]}),
            lambda r: r.status_code == 200 and r.json()["digitised"],
            60,
        )
        reused = next(c for c in listing.json()["components"] if c["name"] == "Giấy khai sinh")
        assert reused["source"] == "reused" and reused["document"]["reused_from"] == result.result_code
        copy = await digitisation.get(f"/documents/{reuse}-TP2", params={"token": receipt["access_token"]})
        assert hashlib.sha256(copy.content).hexdigest() == result.sha256  # the signed result itself
        wallet = await digitisation.get("/e-data-store", params={"dossier": reuse, "token": receipt["access_token"]})
        assert result.result_code in {d["id"] for d in wallet.json()["documents"]}
    async with httpx.AsyncClient(base_url=stack.service_url("signing"), timeout=60) as signing:
        report = (await signing.post("/verification", content=copy.content, headers={"Content-Type": PDF})).json()
    assert report["valid"] is True and len(report["signatures"]) == 2  # the leader's and the unit's seal
