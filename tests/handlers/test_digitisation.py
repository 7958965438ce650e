"""Digitisation in process: uploads kept once by their hash (bad files refused, nothing stored),
each component's copy (uploaded, scanned and signed by the officer, reused from the owner's
e-data store), results archived for the owner, files only for the owner and the officials
routing put on the dossier, recognised text searchable without diacritics."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from motcua_contracts import DossierAssigned, DossierDigitised, DossierStepStarted, ResultArchived, ResultSigned

from infra.issuer import create_app
from services.digitisation import recognition, store
from services.digitisation.app import create
from services.digitisation.settings import DigitisationSettings
from services.runtime.auth import TokenVerifier
from services.runtime.files import MemoryFiles
from services.runtime.receipts import receipt_token, upload_proved
from services.signing.app import create as create_signing
from tests.handlers.events import APPROVAL_PUBLIC_KEY, PERSONAL, RECEIVED_AT, received
from tests.harness import Harness
from tests.samples import BAD_FILES, jpeg, pdf, vietnamese_scan
from tests.signing_pki import DEPUTY, OFFICER, dev_pki, signing_settings

ISSUER = "http://issuer.test"
RECEIPT_KEY = "receipt-k3y-of-this-province"
OWNER = "9" * 64  # the owner's identity hash, as intake seals it
CODE = "H40.101-261124-0001"


def settings(**changes: Any) -> DigitisationSettings:
    chosen: dict[str, Any] = {
        "profile": "development",
        "receipt_token_key": RECEIPT_KEY,
        "oidc_issuer": ISSUER,
        "trust_roots_file": str(dev_pki().root),
    }
    return DigitisationSettings(**(chosen | changes))


class Desk:
    """Digitisation and signing in process, sharing one file store and one identity provider."""

    def __init__(self, digitisation: Harness, signing: Harness, issuer: Any) -> None:
        self.digitisation, self.signing, self.issuer = digitisation, signing, issuer

    async def token(self, official: str) -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.issuer), base_url=ISSUER) as client:
            response = await client.post("/token", data={"username": official})
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def upload(self, content: bytes, name: str = "to-khai.pdf") -> httpx.Response:
        async with self.digitisation.http() as client:
            return await client.post("/documents", files={"file": (name, content, "application/octet-stream")})

    async def get(self, path: str, official: str | None = None, **params: str) -> httpx.Response:
        headers = await self.token(official) if official else {}
        async with self.digitisation.http() as client:
            return await client.get(path, params=params, headers=headers)

    async def scan(self, official: str, code: str, component: str, *pages: bytes) -> httpx.Response:
        files = [("pages", (f"page{i}.bin", page, "application/octet-stream")) for i, page in enumerate(pages)]
        async with self.digitisation.http() as client:
            return await client.post(
                f"/dossiers/{code}/scans",
                data={"component": component},
                files=files,
                headers=await self.token(official),
            )

    async def sign(self, official: str, copy: bytes) -> bytes:
        """The officer signs the copy at signing's `POST /scans/signature`, as the counter's client does."""
        headers = await self.token(official) | {"Content-Type": "application/pdf"}
        async with self.signing.http() as client:
            answer = await client.post("/scans/signature", content=copy, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.content

    async def hand_back(self, official: str, scan_id: str, signed: bytes) -> httpx.Response:
        headers = await self.token(official) | {"Content-Type": "application/pdf"}
        async with self.digitisation.http() as client:
            return await client.post(f"/scans/{scan_id}/signed", content=signed, headers=headers)

    async def scan_and_sign(self, official: str, code: str, component: str, *pages: bytes) -> httpx.Response:
        copy = await self.scan(official, code, component, *pages)
        assert copy.status_code == 201, copy.text
        pdf_copy = await self.get(copy.json()["copy_url"], official)
        return await self.hand_back(official, copy.json()["scan_id"], await self.sign(official, pdf_copy.content))

    async def admit(self, official: str, code: str = CODE) -> None:
        """Routing gives the dossier's step to `official` (a claim)."""
        await self.digitisation.deliver(
            DossierAssigned(
                dossier_code=code,
                step="receive",
                unit="H40.101",
                holder=official,
                assigned_by=official,
                assigned_at=RECEIVED_AT,
            )
        )


@asynccontextmanager
async def desk(tmp_path: Path, **changes: Any) -> AsyncIterator[Desk]:
    issuer = create_app(ISSUER, tmp_path / "issuer-key.pem")

    def verifier() -> TokenVerifier:
        return TokenVerifier(ISSUER, "motcua", transport=httpx.ASGITransport(app=issuer))

    files = MemoryFiles()
    signing = create_signing(
        signing_settings(
            approval_public_key_file=str(APPROVAL_PUBLIC_KEY), receipt_token_key=RECEIPT_KEY, oidc_issuer=ISSUER
        ),
        verifier=verifier(),
        transport=dev_pki().transport(),
    )
    async with (
        Harness.running(create(settings(**changes), verifier()), files) as digitisation,
        Harness.running(signing, files) as signer,
    ):
        yield Desk(digitisation, signer, issuer)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def uploaded(name: str, answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    return {"name": name, "form": "electronic", "sha256": body["sha256"], "document_id": body["document_id"]}


def dossier(code: str = CODE, *components: dict[str, Any], **changes: Any) -> Any:
    chosen = {"owner": PERSONAL.seal_owner(OWNER, code), "procedure_code": "1.001193", "result_kind": "giay-khai-sinh"}
    return received(code, components=list(components), **(chosen | changes))


async def test_an_upload_is_kept_once_by_its_hash_and_proved_to_intake_by_its_token(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        content = pdf(2)
        first, again = await at.upload(content), await at.upload(content, "ban-sao.pdf")
        assert first.status_code == again.status_code == 201, first.text
        body = first.json()
        assert (body["sha256"], body["size"], body["media_type"], body["pages"]) == (
            sha256(content),
            len(content),
            "application/pdf",
            2,
        )
        assert upload_proved(RECEIPT_KEY.encode(), body["document_id"], body["sha256"], body["upload_token"])
        assert not upload_proved(
            RECEIPT_KEY.encode(), again.json()["document_id"], body["sha256"], body["upload_token"]
        )
        assert again.json()["document_id"] != body["document_id"]
        assert list(at.digitisation.files.files) == [sha256(content)]  # one file for two uploads


@pytest.mark.parametrize("name", BAD_FILES)
async def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_stored(tmp_path: Path, name: str) -> None:
    content, problem, status = BAD_FILES[name]
    async with desk(tmp_path) as at:
        answer = await at.upload(content, "giay-to.pdf")
        assert answer.status_code == status, answer.text
        assert answer.json()["detail"]["problem"] == problem
        assert answer.json()["detail"]["file"] == "giay-to.pdf"
        assert at.digitisation.files.files == {}
        assert await at.digitisation.documents.find(store.UPLOADS) == []


async def test_an_oversized_or_missing_file_is_refused(tmp_path: Path) -> None:
    async with desk(tmp_path, max_file_bytes=4096) as at:
        too_large = await at.upload(jpeg())
        assert too_large.status_code == 413 and too_large.json()["detail"]["problem"] == "file_too_large"
        async with at.digitisation.http() as client:
            nothing = await client.post("/documents", data={"note": "no file"})
        assert nothing.status_code == 422 and "multipart field `file`" in nothing.text
        assert at.digitisation.files.files == {}


async def test_a_paper_component_is_scanned_assembled_and_signed_by_the_officer_who_scanned_it(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        form = await at.upload(pdf(), "to-khai.pdf")
        paper = {"name": "Giấy chứng sinh", "form": "paper"}
        await at.digitisation.deliver(dossier(CODE, uploaded("Tờ khai", form), paper))
        assert await at.digitisation.emitted() == []  # the paper is not digitised yet

        # only an official routing put on the dossier may scan it
        assert (await at.scan(OFFICER.id, CODE, "Giấy chứng sinh", vietnamese_scan())).status_code == 404
        await at.admit(OFFICER.id)
        wrong = await at.scan(OFFICER.id, CODE, "Giấy đăng ký kết hôn", jpeg())
        assert wrong.status_code == 422
        bad_page = await at.scan(OFFICER.id, CODE, "Giấy chứng sinh", jpeg(), BAD_FILES["an encrypted PDF"][0])
        assert bad_page.status_code == 422 and bad_page.json()["detail"]["file"] == "page1.bin"

        copy = await at.scan(OFFICER.id, CODE, "Giấy chứng sinh", vietnamese_scan(), pdf())
        assert copy.status_code == 201, copy.text
        assert copy.json()["pages"] == 2
        pdf_copy = (await at.get(copy.json()["copy_url"], OFFICER.id)).content
        assert sha256(pdf_copy) == copy.json()["sha256"]
        assert (await at.get(copy.json()["copy_url"], DEPUTY.id)).status_code == 404  # another official's scan

        signed = await at.sign(OFFICER.id, pdf_copy)
        # a copy signed by someone else, or changed after signing, is not the officer's word
        by_another = await at.hand_back(OFFICER.id, copy.json()["scan_id"], await at.sign(DEPUTY.id, pdf_copy))
        assert by_another.status_code == 422 and "another official" in by_another.text
        tampered = signed.replace(b"motcua digitisation", b"motcua digitisatioN")
        changed = await at.hand_back(OFFICER.id, copy.json()["scan_id"], tampered)
        assert changed.status_code == 422, changed.text
        another_copy = await at.hand_back(OFFICER.id, copy.json()["scan_id"], await at.sign(OFFICER.id, pdf()))
        assert another_copy.status_code == 422 and "not the copy" in another_copy.text

        kept = await at.hand_back(OFFICER.id, copy.json()["scan_id"], signed)
        assert kept.status_code == 200, kept.text
        assert kept.json()["source"] == "scanned" and kept.json()["signer"]["name"] == "Trần Thị Thu"
        [digitised] = await at.digitisation.emitted()
        assert isinstance(digitised, DossierDigitised)
        assert (digitised.components_uploaded, digitised.components_scanned, digitised.components_reused) == (1, 1, 0)
        scanned = digitised.components[1]
        assert (scanned.name, scanned.origin, scanned.digitised_by, scanned.pages) == (
            "Giấy chứng sinh",
            "scanned",
            OFFICER.id,
            2,
        )
        assert at.digitisation.files.files[scanned.sha256] == signed

        again = await at.hand_back(OFFICER.id, copy.json()["scan_id"], signed)
        assert again.status_code == 409  # one copy per component
        assert await at.digitisation.emitted() == []

        # the dossier shows which components were digitised, how, by whom and when
        token = receipt_token(RECEIPT_KEY.encode(), CODE)
        listing = (await at.get(f"/dossiers/{CODE}/documents", token=token)).json()
        assert [(c["name"], c["source"], c["digitised_by"], c["signed_by"]) for c in listing["components"]] == [
            ("Tờ khai", "uploaded", None, None),
            ("Giấy chứng sinh", "scanned", OFFICER.id, "Trần Thị Thu"),
        ]
        assert listing["digitised"] is True


async def test_files_are_served_to_the_owner_and_the_officials_on_the_dossier_only(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        content = pdf(title="Tờ khai của chủ hồ sơ")
        form = await at.upload(content)
        await at.digitisation.deliver(dossier(CODE, uploaded("Tờ khai", form)))
        document_id = f"{CODE}-TP1"
        token = receipt_token(RECEIPT_KEY.encode(), CODE)
        other_token = receipt_token(RECEIPT_KEY.encode(), "H40.101-261124-0002")
        owner = await at.get(f"/documents/{document_id}", token=token)
        assert owner.status_code == 200 and owner.content == content
        assert owner.headers["content-type"] == "application/pdf"
        assert (await at.get(f"/documents/{document_id}")).status_code == 404
        assert (await at.get(f"/documents/{document_id}", token=other_token)).status_code == 404
        assert (await at.get(f"/documents/{document_id}", OFFICER.id)).status_code == 404  # not on the dossier yet
        await at.digitisation.deliver(
            DossierStepStarted(
                dossier_code=CODE,
                workflow="commune-standard",
                workflow_version=1,
                step="review",
                step_name="Thẩm định",
                unit="H40.101",
                role="specialist",
                holder=OFFICER.id,
                started_at=RECEIVED_AT,
                step_due_at=RECEIVED_AT + timedelta(days=1),
            )
        )
        assert (await at.get(f"/documents/{document_id}", OFFICER.id)).content == content
        assert (await at.get(f"/documents/{document_id}", DEPUTY.id)).status_code == 404


async def test_a_signed_result_is_archived_for_its_owner_and_reused_by_their_next_dossier(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        form = await at.upload(pdf())
        await at.digitisation.deliver(dossier(CODE, uploaded("Tờ khai", form), result_valid_days=180))
        await at.digitisation.emitted()
        result = pdf(title="Giấy khai sinh đã ký")
        await at.digitisation.files.put(sha256(result), result)  # signing stores it before it announces it
        signed_at = RECEIVED_AT + timedelta(days=1)
        signed = ResultSigned(
            dossier_code=CODE,
            result_code=f"{CODE}-KQ1",
            document_sha256=sha256(result),
            signature="c2ln",
            algorithm="PAdES-B-LT",
            key_id="0" * 16,
            signed_at=signed_at,
        )
        await at.digitisation.deliver(signed)
        [archived] = await at.digitisation.emitted()
        assert isinstance(archived, ResultArchived)
        assert (archived.result_code, archived.document_id, archived.kind) == (
            f"{CODE}-KQ1",
            f"{CODE}-KQ1",
            "giay-khai-sinh",
        )
        assert archived.valid_until == signed_at + timedelta(days=180)
        assert archived.owner is not None and PERSONAL.open_owner(archived.owner, CODE) == OWNER

        # the owner's next dossier takes the result from the e-data store
        second = "H40.101-261125-0007"
        reused = {
            "name": "Giấy khai sinh",
            "form": "e_data_store",
            "document_id": f"{CODE}-KQ1",
            "sha256": sha256(result),
        }
        await at.digitisation.deliver(dossier(second, reused))
        [digitised] = await at.digitisation.emitted()
        assert (digitised.components_reused, digitised.components[0].origin) == (1, "reused")
        token = receipt_token(RECEIPT_KEY.encode(), second)
        copy = await at.get(f"/documents/{second}-TP1", token=token)
        assert copy.content == result
        store_of_owner = (await at.get("/e-data-store", dossier=second, token=token)).json()["documents"]
        assert f"{CODE}-KQ1" in {d["id"] for d in store_of_owner}
        first_result = await at.get(f"/documents/{CODE}-KQ1", token=token, dossier=second)
        assert first_result.content == result  # the owner's own result, opened with their other receipt

        # another owner's dossier cannot reuse it: the component is scanned from paper instead
        stranger = "H40.101-261125-0008"
        theirs = dossier(stranger, reused, owner=PERSONAL.seal_owner("1" * 64, stranger))
        await at.digitisation.deliver(theirs)
        assert await at.digitisation.emitted() == []
        listing = (
            await at.get(f"/dossiers/{stranger}/documents", token=receipt_token(RECEIPT_KEY.encode(), stranger))
        ).json()
        assert listing["components"][0]["digitised"] is False
        assert "not in the owner's e-data store" in listing["components"][0]["problem"]


async def test_scans_are_recognised_and_found_by_officials_without_diacritics(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        await at.digitisation.deliver(dossier(CODE, {"name": "Giấy chứng sinh", "form": "paper"}))
        await at.admit(OFFICER.id)
        kept = await at.scan_and_sign(OFFICER.id, CODE, "Giấy chứng sinh", vietnamese_scan())
        assert kept.status_code == 200, kept.text
        [pending] = await store.awaiting_recognition(at.digitisation.runtime, 10)
        await recognition.recognise_one(at.digitisation.runtime, pending)  # what the background job does
        found = (await at.get("/search", OFFICER.id, q="giay khai sinh NGUYEN thi huong")).json()["documents"]
        assert [d["id"] for d in found] == [f"{CODE}-TP1"]
        assert "Nguyễn Thị Hương" in found[0]["excerpt"]
        assert (await at.get("/search", DEPUTY.id, q="giay khai sinh")).json()["documents"] == []
        assert (await at.get("/search", OFFICER.id, q="hộ chiếu")).json()["documents"] == []


async def test_a_redelivered_dossier_has_no_second_effect(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        form = await at.upload(pdf())
        envelope = await at.digitisation.deliver(dossier(CODE, uploaded("Tờ khai", form)))
        assert len(await at.digitisation.emitted()) == 1
        await at.digitisation.deliver_raw(envelope.to_bytes(), "motcua.intake.v1", CODE.encode())
        assert await at.digitisation.emitted() == []
        assert len(await at.digitisation.documents.find(store.DOCUMENTS)) == 1


async def test_an_unreadable_event_is_dead_lettered_with_its_reason(tmp_path: Path) -> None:
    async with desk(tmp_path) as at:
        await at.digitisation.deliver_raw(b"{not json", "motcua.intake.v1", b"garbage")
        assert [(key, reason.split(":")[0]) for key, reason in at.digitisation.dead_letters] == [
            (b"garbage", "malformed event")
        ]


async def test_routing_news_that_comes_before_the_dossier_is_kept(tmp_path: Path) -> None:
    """Topics are read independently: routing's assignment may be read before intake's dossier."""
    async with desk(tmp_path) as at:
        await at.admit(OFFICER.id, "H40.101-261124-0031")
        form = await at.upload(pdf())
        await at.digitisation.deliver(dossier("H40.101-261124-0031", uploaded("Tờ khai", form)))
        answer = await at.get("/dossiers/H40.101-261124-0031/documents", OFFICER.id)
        assert answer.status_code == 200 and answer.json()["digitised"] is True
        assert at.digitisation.dead_letters == []
