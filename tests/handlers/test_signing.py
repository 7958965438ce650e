"""Signing: an approved result waits for its leader, who signs it with their own certificate;
the unit's seal follows; the PDF is PAdES B-LT and checks out with pyHanko and poppler; the
result opens only with its dossier's receipt token or an official's access token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from motcua_contracts import DossierApproved, ResultSigned

from infra.issuer import create_app
from infra.pki import softhsm_env
from services.runtime.approvals import ApprovalSigner, write_key_pair
from services.runtime.auth import TokenVerifier
from services.runtime.receipts import receipt_token
from services.runtime.settings import DEVELOPMENT_PERSONAL_DATA_KEY
from services.signing.app import create
from services.signing.settings import SigningSettings
from tests.handlers.events import APPROVAL_PUBLIC_KEY, PERSONAL, approved
from tests.harness import Harness
from tests.signing_pki import DEPUTY, DOOMED, LEADER, OFFICER, dev_pki, signing_settings

RECEIPT_KEY = "receipt-k3y-of-this-province"
ISSUER = "http://issuer.test"
PUBLIC = "https://dichvucong.example.vn"


def settings(tmp_path: Path, profile: str = "development", **changes: Any) -> SigningSettings:
    chosen: dict[str, Any] = {
        "profile": profile,
        "approval_public_key_file": str(APPROVAL_PUBLIC_KEY),
        "kafka_password": "broker-s3cret",
        "receipt_token_key": RECEIPT_KEY,
        "oidc_issuer": ISSUER,
        "mongo_url": "mongodb://signing:db-s3cret@db.example.vn/?replicaSet=rs0",
        "public_url": PUBLIC,
        "personal_data_key": DEVELOPMENT_PERSONAL_DATA_KEY,
    }
    return signing_settings(**(chosen | changes))


def approval(code: str, leader: str = LEADER.id, **changes: Any) -> DossierApproved:
    return approved(
        code,
        approver_id=leader,
        approved_by="Hoàng Văn Nam",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        field="Hộ tịch",
        result_title="Trích lục khai sinh",
        holder=PERSONAL.seal_holder("Nguyễn Thị Bé Na", code),
        **changes,
    )


class Desk:
    """Signing in process, with the identity provider, CA and TSA in process too."""

    def __init__(self, harness: Harness, issuer: Any) -> None:
        self.harness, self.issuer = harness, issuer

    async def token(self, official: str) -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.issuer), base_url=ISSUER) as client:
            response = await client.post("/token", data={"username": official})
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def sign(self, official: str, *codes: str) -> httpx.Response:
        async with self.harness.http() as client:
            return await client.post("/signatures", json={"results": list(codes)}, headers=await self.token(official))


def running(tmp_path: Path, **changes: Any) -> Any:
    issuer = create_app(ISSUER, tmp_path / "issuer-key.pem")
    verifier = TokenVerifier(ISSUER, "motcua", transport=httpx.ASGITransport(app=issuer))
    service = create(settings(tmp_path, **changes), verifier=verifier, transport=dev_pki().transport())
    return issuer, Harness.running(service)


def pdfsig(path: Path) -> str:
    """poppler's verdict, trusting the development root through an NSS database of its own."""
    nss = path.parent / "nss"
    if not nss.exists():
        nss.mkdir()
        subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nss}", "-n", "root", "-t", "CT,C,C", "-i", str(dev_pki().root)], check=True
        )
    run = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True)
    return run.stdout + run.stderr


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def test_the_approving_leader_signs_the_result_once_with_their_certificate_then_the_units_seal(
    tmp_path: Path,
) -> None:
    code = "H40.101-261124-0003"
    issuer, service = running(tmp_path)
    async with service as signing:
        desk = Desk(signing, issuer)
        envelope = await signing.deliver(approval(code))
        await signing.deliver_raw(envelope.to_bytes(), DossierApproved.TOPIC.name, code.encode())  # redelivered
        assert await signing.emitted() == []  # nothing is signed without the leader
        async with signing.http() as client:
            waiting = (await client.get("/signatures/awaiting", headers=await desk.token(LEADER.id))).json()
        first = await desk.sign(LEADER.id, f"{code}-KQ1")
        again = await desk.sign(LEADER.id, f"{code}-KQ1")  # the retried request
        [signed] = await signing.emitted()
        async with signing.http() as client:
            pdf = await client.get(f"/results/{code}-KQ1", params={"token": receipt_token(RECEIPT_KEY.encode(), code)})
            stranger = await client.get(f"/results/{code}-KQ1")
            report = (
                await client.post("/verification", content=pdf.content, headers={"Content-Type": "application/pdf"})
            ).json()
            public = (await client.get(f"/api/verify/{code}-KQ1")).json()
    assert [r["result_code"] for r in waiting["results"]] == [f"{code}-KQ1"]
    assert first.status_code == 200 and [s["result_code"] for s in first.json()["signed"]] == [f"{code}-KQ1"]
    assert again.json() == {"signed": [], "already_signed": [f"{code}-KQ1"], "refused": []}
    assert isinstance(signed, ResultSigned) and signed.signed_by == "Hoàng Văn Nam" and signed.sealed_by == "H40.101"
    assert signed.verify_url == f"{PUBLIC}/verify/{code}-KQ1" and signed.algorithm == "PAdES-B-LT"
    assert pdf.headers["content-type"] == "application/pdf" and stranger.status_code == 404
    # two signatures, each timestamped, trusted, intact, with the validation data embedded
    leader, seal = report["signatures"]
    assert report["valid"] is True
    assert leader["signer"] == "Hoàng Văn Nam" and seal["signer"] == "Ủy ban nhân dân xã Mẫu Một"
    assert all(s["timestamp_valid"] and s["intact"] and s["trusted"] for s in (leader, seal))
    assert {s["level"] for s in (leader, seal)} == {"PAdES-B-LT"}
    assert {s["certificate_status"] for s in (leader, seal)} == {"good"}
    assert public["signed_by"] == "Hoàng Văn Nam" and public["sha256"] == signed.document_sha256
    # a third party's tool agrees; a byte changed after signing is caught by both
    path = tmp_path / "result.pdf"
    path.write_bytes(pdf.content)
    verdict = pdfsig(path)  # (the CA is not reachable by poppler here: certificate trust is checked end to end)
    assert verdict.count("Signature is Valid.") == 2 and "Hoàng Văn Nam" in verdict
    text = pdftotext(path)
    assert "Nguyễn Thị Bé Na" in text and f"{code}-KQ1" in text
    tampered = bytearray(pdf.content)  # one digit of the creation date, inside what both signatures cover
    at = tampered.index(b"/CreationDate (D:") + len(b"/CreationDate (D:") + 3
    tampered[at] = ord("0") + (tampered[at] - ord("0") + 1) % 10
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(bytes(tampered))
    assert "Signature is Invalid" in pdfsig(changed) or "Digest Mismatch" in pdfsig(changed)
    async with running(tmp_path)[1] as again_signing, again_signing.http() as client:
        broken = (
            await client.post("/verification", content=bytes(tampered), headers={"Content-Type": "application/pdf"})
        ).json()
    assert broken["valid"] is False and not all(s.get("intact") for s in broken["signatures"])


async def test_only_the_approving_leader_signs_and_refusals_are_clear(tmp_path: Path) -> None:
    code = "H40.101-261124-0004"
    issuer, service = running(tmp_path)
    async with service as signing:
        desk = Desk(signing, issuer)
        await signing.deliver(approval(code))
        other = await desk.sign(DEPUTY.id, f"{code}-KQ1", "H40.101-261124-9999-KQ1")
        assert await signing.emitted() == []
        async with signing.http() as client:
            garbage = await client.post(
                "/verification", content=b"%PDF-1.7 not really", headers={"Content-Type": "application/pdf"}
            )
            anonymous = await client.post("/signatures", json={"results": [f"{code}-KQ1"]})
    assert other.status_code == 200 and other.json()["signed"] == []
    assert {r["reason"] for r in other.json()["refused"]} == {
        "only the leader who approved the dossier signs its result",
        "no approved result with this code",
    }
    assert garbage.status_code == 400 and "PDF" in garbage.json()["detail"]
    assert anonymous.status_code == 401


async def test_a_revoked_leaders_signing_fails_with_the_reason_and_verification_reports_the_revocation(
    tmp_path: Path,
) -> None:
    before, after = "H40.101-261124-0005", "H40.101-261124-0006"
    issuer, service = running(tmp_path)
    async with service as signing:
        desk = Desk(signing, issuer)
        await signing.deliver(approval(before, leader=DOOMED.id))
        await signing.deliver(approval(after, leader=DOOMED.id))
        assert (await desk.sign(DOOMED.id, f"{before}-KQ1")).status_code == 200
        dev_pki().revoke(DOOMED)
        refused = await desk.sign(DOOMED.id, f"{after}-KQ1")
        [signed] = await signing.emitted()
        async with signing.http() as client:
            pdf = await client.get(f"/results/{before}-KQ1", headers=await desk.token(LEADER.id))
            report = (
                await client.post("/verification", content=pdf.content, headers={"Content-Type": "application/pdf"})
            ).json()
    assert signed.dossier_code == before
    assert refused.status_code == 403 and "revoked" in refused.json()["detail"]
    leader = report["signatures"][0]
    assert leader["certificate_status"] == "revoked" and leader["revoked_at"] and report["valid"] is False


async def test_only_approvals_routing_signed_are_kept_the_others_are_dead_lettered(tmp_path: Path) -> None:
    write_key_pair(tmp_path / "forger.pem")
    forger = ApprovalSigner.load(tmp_path / "forger.pem", create_if_missing=False)
    forged_title = "GIẤY PHÉP XÂY DỰNG (giả mạo)"
    unsigned = DossierApproved(
        dossier_code="H40.101-261124-0101", competent_unit="H40.101", approved_by="Ai đó", result_title=forged_title
    )
    altered = approval("H40.101-261124-0102").model_copy(update={"result_title": forged_title})
    other_key = forger.sign(unsigned.model_copy(update={"dossier_code": "H40.101-261124-0103"}))
    issuer, service = running(tmp_path)
    async with service as signing:
        for event in (unsigned, altered, other_key, approval("H40.101-261124-0104")):
            await signing.deliver(event)
        parked = signing.dead_letters
        async with signing.http() as client:
            waiting = (
                await client.get("/signatures/awaiting", headers=await Desk(signing, issuer).token(LEADER.id))
            ).json()
    assert [r["result_code"] for r in waiting["results"]] == ["H40.101-261124-0104-KQ1"]
    assert sorted(reason for _, reason in parked) == [
        "refused: approval whose signature is not routing's",
        "refused: approval whose signature is not routing's",
        "refused: approval without routing's signature",
    ]


def test_outside_the_development_profile_signing_needs_its_pin_and_keys(tmp_path: Path) -> None:
    chosen: dict[str, Any] = settings(tmp_path, profile="production").model_dump()
    for missing in ("pkcs11_pin", "tsa_url", "receipt_token_key"):
        with pytest.raises(ValueError, match=f"MOTCUA_{missing.upper()}"):
            SigningSettings(**(chosen | {missing: None}))


def test_a_wrong_pin_stops_the_start_with_the_reason() -> None:
    """In a process of its own: a process that logged in to the token once stays logged in."""
    opening = "from services.signing.keys import Pkcs11Keys; Pkcs11Keys('/usr/lib/softhsm/libsofthsm2.so', 'motcua-signing', '0000')"
    run = subprocess.run(
        [sys.executable, "-c", opening],
        env={**os.environ, **softhsm_env(dev_pki().directory)},
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and "the PIN of token 'motcua-signing' is wrong (MOTCUA_PKCS11_PIN)" in run.stderr


def scanned_copy() -> bytes:
    """What digitisation assembles from the scans of a paper component."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Giay chung sinh (ban scan)")
    return bytes(pdf.output())


async def test_the_receiving_officer_signs_the_scanned_copy_with_their_own_certificate(tmp_path: Path) -> None:
    issuer, service = running(tmp_path)
    async with service as signing:
        desk = Desk(signing, issuer)
        pdf = {"Content-Type": "application/pdf"}
        async with signing.http() as client:
            signed = await client.post(
                "/scans/signature", content=scanned_copy(), headers=pdf | await desk.token(OFFICER.id)
            )
            no_certificate = await client.post(
                "/scans/signature", content=scanned_copy(), headers=pdf | await desk.token("h40101.hotich")
            )
            garbage = await client.post(
                "/scans/signature", content=b"not a pdf", headers=pdf | await desk.token(OFFICER.id)
            )
            report = (await client.post("/verification", content=signed.content, headers=pdf)).json()
    assert signed.status_code == 200 and signed.headers["content-type"] == "application/pdf"
    [scan] = report["signatures"]
    assert report["valid"] and scan["signer"] == "Trần Thị Thu" and scan["level"] == "PAdES-B-LT"
    assert scan["intact"] and scan["timestamp_valid"] and scan["certificate_status"] == "good"
    assert no_certificate.status_code == 409 and "no signing certificate" in no_certificate.json()["detail"]
    assert garbage.status_code == 400 and "PDF" in garbage.json()["detail"]
