"""Signing: an approved result is signed once, with a signature anyone can check."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from motcua_contracts import DossierApproved, ResultSigned

from services.signing.app import create
from services.signing.settings import SigningSettings
from tests.harness import Harness

APPROVED = DossierApproved(
    dossier_code="H40.101-261124-0003",
    competent_unit="H40.101",
    approved_by="Nguyễn Văn Minh",
    result_title="Giấy xác nhận thông tin cư trú",
)


def settings(tmp_path: Path, profile: str = "development") -> SigningSettings:
    return SigningSettings(
        profile=profile, signing_key_file=str(tmp_path / "keys" / "agency.pem"), kafka_password="broker-s3cret"
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
