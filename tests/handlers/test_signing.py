"""Signing: an approved result is signed once, with a signature anyone can check."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from motcua_contracts import DossierApproved, ResultSigned

from services.runtime.approvals import ApprovalSigner, write_key_pair
from services.signing.app import create
from services.signing.settings import SigningSettings
from tests.handlers.events import APPROVAL_PUBLIC_KEY, approved
from tests.harness import Harness

APPROVED = approved("H40.101-261124-0003")


def settings(tmp_path: Path, profile: str = "development") -> SigningSettings:
    return SigningSettings(
        profile=profile,
        signing_key_file=str(tmp_path / "keys" / "agency.pem"),
        approval_public_key_file=str(APPROVAL_PUBLIC_KEY),
        kafka_password="broker-s3cret",
        mongo_url="mongodb://signing:db-s3cret@db.example.vn/?replicaSet=rs0",
    )


async def test_an_approved_result_is_signed_once_and_verifies_with_the_published_key(tmp_path: Path) -> None:
    async with Harness.running(create(settings(tmp_path))) as signing:
        envelope = await signing.deliver(APPROVED)
        await signing.deliver_raw(envelope.to_bytes(), APPROVED.TOPIC.name, APPROVED.dossier_code.encode())
        [signed] = await signing.emitted()
        assert isinstance(signed, ResultSigned) and signed.result_code == "H40.101-261124-0003-KQ1"
        async with signing.http() as client:
            result = (await client.get(f"/results/{signed.result_code}")).json()
            pem = (await client.get("/keys/current")).text
            assert (await client.get("/results/H40.101-261124-0003-KQ9")).status_code == 404
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    document = base64.b64decode(result["document_base64"])
    key.verify(base64.b64decode(result["signature"]), document, ec.ECDSA(hashes.SHA256()))
    assert "Giấy xác nhận thông tin cư trú" in document.decode()


async def test_outside_the_development_profile_a_missing_key_stops_the_start(tmp_path: Path) -> None:
    service = create(settings(tmp_path, profile="production"))
    with pytest.raises(FileNotFoundError, match="MOTCUA_SIGNING_KEY_FILE"):
        async with Harness.running(service):
            pass
    assert not (tmp_path / "keys" / "agency.pem").exists()


async def test_only_approvals_routing_signed_are_signed_the_others_are_dead_lettered(tmp_path: Path) -> None:
    write_key_pair(tmp_path / "forger.pem")
    forger = ApprovalSigner.load(tmp_path / "forger.pem", create_if_missing=False)
    forged_title = "GIẤY PHÉP XÂY DỰNG (giả mạo)"
    unsigned = DossierApproved(
        dossier_code="H40.101-261124-0101", competent_unit="H40.101", approved_by="Ai đó", result_title=forged_title
    )
    altered = approved("H40.101-261124-0102").model_copy(update={"result_title": forged_title})
    other_key = forger.sign(unsigned.model_copy(update={"dossier_code": "H40.101-261124-0103"}))
    async with Harness.running(create(settings(tmp_path))) as signing:
        for event in (unsigned, altered, other_key, approved("H40.101-261124-0104")):
            await signing.deliver(event)
        [signed] = await signing.emitted()
        parked = signing.dead_letters
        async with signing.http() as client:
            refused = [await client.get(f"/results/{e.dossier_code}-KQ1") for e in (unsigned, altered, other_key)]
    assert isinstance(signed, ResultSigned) and signed.dossier_code == "H40.101-261124-0104"
    assert [status.status_code for status in refused] == [404, 404, 404]
    reasons = sorted(reason for _, reason in parked)
    assert reasons == [
        "refused: approval whose signature is not routing's",
        "refused: approval whose signature is not routing's",
        "refused: approval without routing's signature",
    ]
