"""Intake in process: every submission rule, alone and together, and what a refused
submission leaves behind (nothing). Shared helpers for the other intake test files live here."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from motcua_contracts import DossierReceived, new_event_id
from pydantic import ValidationError

from services.intake import domain
from services.intake.app import create
from services.intake.context import IntakeContext
from services.intake.settings import IntakeSettings
from services.runtime import LOCAL_TZ
from services.runtime import clock as runtime_clock
from services.runtime.personal import UnreadableSeal
from services.runtime.receipts import upload_token
from tests.harness import Harness, until

IDENTITY = "001203004567"
UPLOAD_KEY = IntakeSettings(profile="development").receipt_key()  # the document store signs uploads with it


def uploaded(name: str, content: bytes = b"%PDF-1.7 test") -> dict[str, Any]:
    """An electronic component, as the document store answered its upload (digitisation's `POST /documents`)."""
    document_id, sha256 = f"UP-{new_event_id()}", hashlib.sha256(content).hexdigest()
    return {
        "name": name,
        "form": "electronic",
        "document_id": document_id,
        "sha256": sha256,
        "upload_token": upload_token(UPLOAD_KEY, document_id, sha256),
    }


GOOD: dict[str, Any] = {  # building permit: partly online, 75,000 VND, 15 working days
    "procedure_code": "1.009994",
    "commune_code": "H40.101",
    "channel": "online_partial",
    "applicant": {"name": "Trần Thị Mai", "phone": "0987654321", "identity_number": IDENTITY},
    "components": [
        uploaded("Đơn đề nghị cấp giấy phép xây dựng"),
        {"name": "Giấy tờ chứng minh quyền sử dụng đất", "form": "paper"},
        {"name": "Bản vẽ thiết kế xây dựng", "form": "paper"},
    ],
}
RESIDENCE: dict[str, Any] = {  # permanent residence: fully online, 7 working days
    "procedure_code": "1.004194",
    "commune_code": "H40.101",
    "channel": "online_full",
    "applicant": {"name": "Nguyễn Văn An", "phone": "0912345678", "identity_number": "079090001234"},
    "components": [
        uploaded("Tờ khai thay đổi thông tin cư trú"),
        {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "form": "paper"},
    ],
}
MONDAY_9AM = datetime(2026, 11, 16, 9, 0, tzinfo=LOCAL_TZ)
STATE = ("dossiers", "tracking", "sequences", "submissions", "outbox")  # what a dossier leaves in the store


def settings(**changes: Any) -> IntakeSettings:
    return IntakeSettings(profile="development", **changes)


@asynccontextmanager
async def running(**changes: Any) -> AsyncIterator[Harness[IntakeContext]]:
    async with Harness.running(create(settings(**changes))) as intake:
        yield intake


def stored(intake: Harness[Any]) -> dict[str, int]:
    """How many documents of each collection a dossier writes."""
    return {name: len(intake.documents.data.get(name, {})) for name in STATE}


def clock_setter(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """A function that sets the services' clock to a moment (through the runtime's clock shift)."""

    def pin(moment: datetime) -> None:
        monkeypatch.setattr(runtime_clock, "SHIFT", moment - datetime.now(UTC))

    return pin


# --- each rule alone ------------------------------------------------------------------------

FIRST, LAND, PAPER = GOOD["components"]
FORGED = {**FIRST, "upload_token": upload_token(b"another key", FIRST["document_id"], FIRST["sha256"])}
DOMAIN_FAULTS = [
    ({"procedure_code": "9.999999"}, 404, "unknown_procedure", "unknown procedure"),
    ({"commune_code": "H99.999"}, 404, "unknown_commune", "unknown commune"),
    ({"procedure_code": "1.000954", "components": []}, 422, "information_only", "information only"),
    ({"channel": "online_full"}, 422, "channel_not_allowed", "partial online: not by online_full"),
    ({"channel": "counter"}, 422, "receiving_officer_missing", "receiving officer"),
    ({"channel": "post"}, 422, "postal_reference_missing", "postal item number"),
    ({"components": [FIRST]}, 422, "missing_component", "Giấy tờ chứng minh quyền sử dụng đất"),
    ({"components": [FIRST, LAND, {**PAPER, "form": "e_data_store"}]}, 422, "not_reusable", "cannot come from"),
    ({"components": [FIRST, {**LAND, "form": "e_data_store"}, PAPER]}, 422, "not_held", "not in the owner's e-data"),
    ({"components": [{"name": FIRST["name"], "form": "electronic"}, LAND, PAPER]}, 422, "file_missing", "upload"),
    ({"components": [FORGED, LAND, PAPER]}, 422, "upload_unknown", "did not answer this upload"),
    ({"components": [{**FIRST, "sha256": "0" * 64}, LAND, PAPER]}, 422, "upload_unknown", "wrong id, hash or token"),
]


@pytest.mark.parametrize(("change", "status", "kind", "message"), DOMAIN_FAULTS)
async def test_each_fault_alone_gets_its_status_and_reason_and_stores_nothing(
    change: dict, status: int, kind: str, message: str
) -> None:
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json={**GOOD, **change})
    assert response.status_code == status
    assert message in response.text
    assert {p["kind"] for p in response.json()["detail"]["problems"]} == {kind}
    assert stored(intake) == dict.fromkeys(STATE, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"applicant": {**GOOD["applicant"], "phone": "12345"}}, "phone"),
        ({"applicant": {**GOOD["applicant"], "identity_number": "12AB"}}, "identity_number"),
        ({"applicant": {**GOOD["applicant"], "email": "a" * 300 + "@example.vn"}}, "email"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"channel": "post", "postal_reference": "RR12"}, "postal_reference"),
        ({"components": [{"name": "x" * 301, "form": "paper"}, *GOOD["components"]]}, "name"),
    ],
)
async def test_malformed_fields_are_refused_by_name(change: dict, field: str) -> None:
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json={**GOOD, **change})
    assert response.status_code == 422
    assert field in response.text
    assert stored(intake) == dict.fromkeys(STATE, 0)


async def test_a_good_submission_passes_every_rule() -> None:
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json=GOOD)
    assert response.status_code == 201, response.text
    assert stored(intake) == {"dossiers": 1, "tracking": 1, "sequences": 1, "submissions": 0, "outbox": 1}


# --- every fault at once ---------------------------------------------------------------------


async def test_a_submission_with_several_faults_lists_them_all() -> None:
    faulty = {
        **GOOD,
        "commune_code": "H99.999",
        "channel": "online_full",
        "components": [FORGED, {**PAPER, "form": "e_data_store"}, {"name": "Ảnh chụp", "form": "electronic"}],
    }
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json=faulty)
    assert response.status_code == 404  # the most specific: an unknown commune
    problems = response.json()["detail"]["problems"]
    assert sorted(p["kind"] for p in problems) == [
        "channel_not_allowed",
        "file_missing",
        "missing_component",
        "not_reusable",
        "unknown_commune",
        "upload_unknown",
    ]
    assert {p.get("component") for p in problems} >= {LAND["name"], PAPER["name"], "Ảnh chụp", FIRST["name"]}
    assert stored(intake) == dict.fromkeys(STATE, 0)


# --- the owner's e-data store ------------------------------------------------------------------


async def hold(intake: Harness[Any], kind: str, valid_until: datetime | None = None) -> str:
    """The owner of GOOD holds a document of `kind` (as intake learns from `result.archived`)."""
    owner = domain.identity_hash(IDENTITY, intake.context.settings.hash_key())
    document_id = f"H40.101-261001-0003-KQ1-{kind}"
    await intake.documents.put(
        "holdings",
        [
            {
                "_id": f"{owner}:{kind}",
                "owner": owner,
                "kind": kind,
                "document_id": document_id,
                "sha256": "5" * 64,
                "valid_until": valid_until,
                "archived_at": datetime(2026, 10, 1, tzinfo=UTC),
            }
        ],
    )
    return document_id


async def test_a_component_the_owner_holds_is_taken_from_the_e_data_store_without_asking() -> None:
    async with running() as intake, intake.http() as client:
        held = await hold(intake, "giay-chung-nhan-quyen-su-dung-dat")
        response = await client.post("/dossiers", json={**GOOD, "components": [FIRST, PAPER]})
        assert response.status_code == 201, response.text
        assert response.json()["reused_components"] == [LAND["name"]]
        [received] = await intake.emitted()
        reused = next(c for c in received.components if c.name == LAND["name"])
        assert (reused.form, reused.document_id, reused.kind) == (
            "e_data_store",
            held,
            "giay-chung-nhan-quyen-su-dung-dat",
        )
        # named as e_data_store, the same
        named = await client.post(
            "/dossiers", json={**GOOD, "components": [FIRST, {**LAND, "form": "e_data_store"}, PAPER]}
        )
        assert named.status_code == 201 and named.json()["reused_components"] == [LAND["name"]]


async def test_an_expired_holding_is_not_reused() -> None:
    async with running() as intake, intake.http() as client:
        await hold(intake, "giay-chung-nhan-quyen-su-dung-dat", valid_until=datetime(2026, 1, 1, tzinfo=UTC))
        response = await client.post("/dossiers", json={**GOOD, "components": [FIRST, PAPER]})
    assert response.status_code == 422
    assert [p["kind"] for p in response.json()["detail"]["problems"]] == ["missing_component"]


# --- personal data and settings ----------------------------------------------------------------


async def test_the_identity_number_is_never_stored_nor_published_in_clear() -> None:
    async with running() as intake, intake.http() as client:
        receipt = (await client.post("/dossiers", json=GOOD)).json()
        [received] = await intake.emitted()
        assert IDENTITY not in repr(intake.documents.data)
        assert IDENTITY not in received.model_dump_json()
        # yet the owner can still prove themselves with it
        found = await client.post("/api/track", json={"code": receipt["dossier_code"], "owner": IDENTITY})
        assert found.status_code == 200


async def test_name_and_phone_travel_sealed_for_the_services_that_address_the_citizen() -> None:
    applicant = GOOD["applicant"]
    async with running() as intake, intake.http() as client:
        code = (await client.post("/dossiers", json=GOOD)).json()["dossier_code"]
        [envelope] = await intake.outbox()
    published = envelope.to_bytes().decode()
    assert applicant["phone"] not in published and applicant["name"] not in published
    received = envelope.payload()
    assert isinstance(received, DossierReceived)
    # routing and notification, holding the key, open it; for another dossier it does not open
    opened = IntakeSettings(profile="development").personal_data().open(received.applicant, code)
    assert (opened.name, opened.phone) == (applicant["name"], applicant["phone"])
    with pytest.raises(UnreadableSeal):
        IntakeSettings(profile="development").personal_data().open(received.applicant, code + "9")


def test_a_deployment_without_the_identity_hash_key_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PROFILE",
        "IDENTITY_HASH_KEY",
        "RECEIPT_TOKEN_KEY",
        "PERSONAL_DATA_KEY",
        "PUBLIC_URL",
        "PAYMENT_URL",
        "KAFKA_PASSWORD",
    ):
        monkeypatch.delenv(f"MOTCUA_{name}", raising=False)
    with pytest.raises(ValidationError, match="MOTCUA_IDENTITY_HASH_KEY") as refused:
        IntakeSettings()
    assert "MOTCUA_RECEIPT_TOKEN_KEY" in str(refused.value) and "MOTCUA_PERSONAL_DATA_KEY" in str(refused.value)
    assert "MOTCUA_PAYMENT_URL" in str(refused.value) and "MOTCUA_NOTIFICATION_URL" in str(refused.value)
    chosen = IntakeSettings(
        identity_hash_key="k-5f1e9a",
        receipt_token_key="r-71c2d4",
        personal_data_key="c2VhbC1rZXktb2YtdGhpcy1wcm92aW5jZS0zMmJ5dGU=",
        public_url="https://dichvucong.example.vn",
        payment_url="https://thanhtoan.example.vn",
        notification_url="https://thongbao.example.vn",
        kafka_password="broker-s3cret",
        mongo_url="mongodb://intake:db-s3cret@db.example.vn/?replicaSet=rs0",
    )
    assert chosen.hash_key() == b"k-5f1e9a"
    assert "k-5f1e9a" not in repr(chosen) and "k-5f1e9a" not in str(chosen.model_dump())
    assert chosen.receipt_key() == b"r-71c2d4" and "r-71c2d4" not in repr(chosen)


# --- beyond capacity ----------------------------------------------------------------------------


async def test_beyond_the_submissions_in_flight_intake_answers_busy_at_once_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running(max_submissions_in_flight=1, submission_wait_s=0.05) as intake, intake.http() as client:
        database_free = asyncio.Event()
        transaction = intake.documents.transaction

        async def slow_transaction(work: Any) -> Any:  # the database is slow: the first submission stays in flight
            await database_free.wait()
            return await transaction(work)

        monkeypatch.setattr(intake.documents, "transaction", slow_transaction)
        first = asyncio.create_task(client.post("/dossiers", json=GOOD))
        await until(lambda: intake.context.submissions.turns.locked(), "the first submission in flight")
        asked_at = time.monotonic()
        busy = await asyncio.wait_for(  # without the bound it would wait for the database: fail, not hang
            client.post("/dossiers", json=RESIDENCE, headers={"Idempotency-Key": "citizen-retry-1"}), timeout=10
        )
        waited = time.monotonic() - asked_at
        assert stored(intake)["dossiers"] == 0
        database_free.set()
        assert (await first).status_code == 201
        after_busy = stored(intake)
        again = await client.post("/dossiers", json=RESIDENCE, headers={"Idempotency-Key": "citizen-retry-1"})
        metrics = (await client.get("/metrics")).text
    assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
    assert "gửi lại sau 2 giây" in busy.json()["detail"]
    assert waited < 5  # answered within a moment, not after the slow submission
    assert after_busy["dossiers"] == after_busy["submissions"] + 1 == 1  # the refused one left nothing, its key free
    assert again.status_code == 201  # the citizen's retry with the same key is received once
    assert 'motcua_requests_limited_total{limit="submissions_in_flight",service="intake"} 1.0' in metrics
