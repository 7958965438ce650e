"""Signing: an approved result is signed once, with a signature anyone can check; the result
itself opens only with its dossier's receipt token or an official's access token."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from motcua_contracts import DossierApproved, ResultSigned

from infra.issuer import create_app
from services.runtime.approvals import ApprovalSigner, write_key_pair
from services.runtime.auth import TokenVerifier
from services.runtime.receipts import receipt_token
from services.signing.app import create
from services.signing.settings import SigningSettings
from tests.handlers.events import APPROVAL_PUBLIC_KEY, approved
from tests.handlers.test_intake import RESIDENCE
from tests.handlers.test_intake import running as running_intake
from tests.harness import Harness

APPROVED = approved("H40.101-261124-0003")
RECEIPT_KEY = "receipt-k3y-of-this-province"
ISSUER = "http://issuer.test"


def settings(tmp_path: Path, profile: str = "development") -> SigningSettings:
    return SigningSettings(
        profile=profile,
        signing_key_file=str(tmp_path / "keys" / "agency.pem"),
        approval_public_key_file=str(APPROVAL_PUBLIC_KEY),
        kafka_password="broker-s3cret",
        receipt_token_key=RECEIPT_KEY,
        oidc_issuer=ISSUER,
        mongo_url="mongodb://signing:db-s3cret@db.example.vn/?replicaSet=rs0",
    )


async def test_an_approved_result_is_signed_once_and_verifies_with_the_published_key(tmp_path: Path) -> None:
    async with Harness.running(create(settings(tmp_path))) as signing:
        envelope = await signing.deliver(APPROVED)
        await signing.deliver_raw(envelope.to_bytes(), APPROVED.TOPIC.name, APPROVED.dossier_code.encode())
        [signed] = await signing.emitted()
        assert isinstance(signed, ResultSigned) and signed.result_code == "H40.101-261124-0003-KQ1"
        async with signing.http() as client:
            token = receipt_token(RECEIPT_KEY.encode(), APPROVED.dossier_code)
            result = (await client.get(f"/results/{signed.result_code}", params={"token": token})).json()
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
            refused = [
                await client.get(f"/results/{e.dossier_code}-KQ1", params={"token": opening(e.dossier_code)})
                for e in (unsigned, altered, other_key)
            ]
    assert isinstance(signed, ResultSigned) and signed.dossier_code == "H40.101-261124-0104"
    assert [status.status_code for status in refused] == [404, 404, 404]
    reasons = sorted(reason for _, reason in parked)
    assert reasons == [
        "refused: approval whose signature is not routing's",
        "refused: approval whose signature is not routing's",
        "refused: approval without routing's signature",
    ]


def opening(dossier_code: str) -> str:
    return receipt_token(RECEIPT_KEY.encode(), dossier_code)


async def officials_token(issuer: Any) -> dict[str, str]:
    """An access token from `issuer` (the development identity provider, in process)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=issuer), base_url=ISSUER) as client:
        response = await client.post("/token", data={"username": "h40101.vanhoa"})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_result_opens_with_its_dossiers_receipt_token_or_an_officials_token(tmp_path: Path) -> None:
    async with running_intake(receipt_token_key=RECEIPT_KEY) as intake, intake.http() as citizen:
        mine = (await citizen.post("/dossiers", json=RESIDENCE)).json()
        theirs = (await citizen.post("/dossiers", json=RESIDENCE)).json()
    issuer = create_app(ISSUER, tmp_path / "issuer-key.pem")
    forger = create_app(ISSUER, tmp_path / "forger-key.pem")  # same name, another key
    verifier = TokenVerifier(ISSUER, "motcua", transport=httpx.ASGITransport(app=issuer))
    async with Harness.running(create(settings(tmp_path), verifier=verifier)) as signing:
        await signing.deliver(approved(mine["dossier_code"]))
        [signed] = await signing.emitted()
        url = f"/results/{signed.result_code}"
        async with signing.http() as client:
            owner = await client.get(url, params={"token": mine["access_token"]})
            stranger = await client.get(url)
            neighbour = await client.get(url, params={"token": theirs["access_token"]})
            missing = await client.get(
                f"/results/{theirs['dossier_code']}-KQ1", params={"token": theirs["access_token"]}
            )
            walking = await client.get(f"/results/{theirs['dossier_code']}-KQ1")
            official = await client.get(url, headers=await officials_token(issuer))
            forged = await client.get(url, headers=await officials_token(forger))
            not_bearer = await client.get(url, params={"token": mine["access_token"]}, headers={"Authorization": "x"})
    assert owner.status_code == 200 and owner.json()["result_code"] == signed.result_code
    assert json.loads(base64.b64decode(owner.json()["document_base64"]))["dossier_code"] == mine["dossier_code"]
    # without the token, or with another dossier's, the result is as missing as one never signed
    assert stranger.status_code == neighbour.status_code == walking.status_code == missing.status_code == 404
    assert stranger.json()["detail"] == neighbour.json()["detail"] == f"no signed result {signed.result_code!r}"
    assert official.status_code == 200 and official.json() == owner.json()
    assert forged.status_code == not_bearer.status_code == 401
    assert forged.headers["www-authenticate"].startswith("Bearer")
    assert "document_base64" not in forged.text


async def test_a_receipt_token_made_with_another_key_opens_nothing(tmp_path: Path) -> None:
    """The token is the province's MAC of the code: knowing the scheme is not enough to make one."""
    async with Harness.running(create(settings(tmp_path))) as signing:
        await signing.deliver(APPROVED)
        await signing.emitted()
        url = f"/results/{APPROVED.dossier_code}-KQ1"
        async with signing.http() as client:
            guessed = await client.get(
                url, params={"token": receipt_token(b"development-receipt-token-key", APPROVED.dossier_code)}
            )
            right = await client.get(url, params={"token": opening(APPROVED.dossier_code)})
    assert guessed.status_code == 404 and right.status_code == 200


def test_outside_the_development_profile_signing_needs_the_receipt_token_key(tmp_path: Path) -> None:
    chosen: dict[str, Any] = settings(tmp_path, profile="production").model_dump()
    chosen["receipt_token_key"] = None
    with pytest.raises(ValueError, match="MOTCUA_RECEIPT_TOKEN_KEY"):
        SigningSettings(**chosen)
