"""Bad input gets a clear error and loses nothing: HTTP 4xx with a message,
malformed events dead-lettered with their reason while the others flow on."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from motcua_contracts import SERVICES, DossierReceived, Envelope, dead_letter_topic

from infra.dlq import replay
from infra.kafka_io import read_topic
from infra.stack import Stack

from .support import database, eventually, submit_and_complete, wait_all_notified

pytestmark = pytest.mark.e2e

GOOD = {  # at the counter: every component on paper
    "procedure_code": "1.009994",
    "commune_code": "H40.101",
    "channel": "online_partial",
    "applicant": {"name": "Trần Thị Mai", "phone": "0987654321", "identity_number": "001203004567"},
    "components": [
        {"name": "Đơn đề nghị cấp giấy phép xây dựng", "form": "paper"},
        {"name": "Giấy tờ chứng minh quyền sử dụng đất", "form": "paper"},
        {"name": "Bản vẽ thiết kế xây dựng", "form": "paper"},
    ],
}
FIRST = GOOD["components"][0]
UNPROVED = {**FIRST, "form": "electronic", "document_id": "UP-01JB3Z6V1S2K8Q4W7X9Y0A1B2C", "sha256": "0" * 64}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"procedure_code": "9.999999"}, 404, "unknown procedure"),
        ({"commune_code": "H99.999"}, 404, "unknown commune"),
        ({"components": GOOD["components"][:1]}, 422, "Giấy tờ chứng minh quyền sử dụng đất"),
        ({"applicant": {**GOOD["applicant"], "phone": "12345"}}, 422, "phone"),
        ({"applicant": {**GOOD["applicant"], "identity_number": "12AB"}}, 422, "identity_number"),
        ({"components": [{**FIRST, "form": "electronic"}, *GOOD["components"][1:]]}, 422, "upload its file"),
        (
            {"components": [{**UNPROVED, "upload_token": "forged-token"}, *GOOD["components"][1:]]},
            422,
            "did not answer this upload",
        ),
        ({"components": [{**UNPROVED, "sha256": "xyz"}, *GOOD["components"][1:]]}, 422, "sha256"),
        ({"channel": "carrier-pigeon"}, 422, "channel"),
        ({"procedure_code": "1.000954", "components": []}, 422, "information only"),
        ({"channel": "online_full"}, 422, "partial online: not by online_full"),
        ({"channel": "counter"}, 422, "receiving officer"),
        ({"channel": "post"}, 422, "postal item number"),
        ({"channel": "post", "postal_reference": "RR12"}, 422, "postal_reference"),
        (
            {"components": [*GOOD["components"][:2], {"name": "Bản vẽ thiết kế xây dựng", "form": "e_data_store"}]},
            422,
            "cannot come from the e-data store",
        ),
        (
            {"components": [FIRST, {**GOOD["components"][1], "form": "e_data_store"}, GOOD["components"][2]]},
            422,
            "not in the owner's e-data store",
        ),
        ({"applicant": {**GOOD["applicant"], "email": "a" * 300 + "@example.vn"}}, 422, "email"),
        ({"components": [{"name": "x" * 301, "form": "paper"}, *GOOD["components"]]}, 422, "name"),
    ],
)
def test_bad_submission_is_refused_with_a_reason_and_stores_nothing(
    stack: Stack, change: dict, status: int, message: str
) -> None:
    dossiers = database(stack, "intake")["dossiers"]
    before = dossiers.count_documents({})
    response = httpx.post(f"{stack.service_url('intake')}/dossiers", json={**GOOD, **change}, timeout=10)
    assert response.status_code == status
    assert message in response.text
    assert dossiers.count_documents({}) == before


def test_catalogue_search_over_http_ignores_diacritics(stack: Stack) -> None:
    response = httpx.get(f"{stack.service_url('intake')}/procedures", params={"q": "dang ky khai sinh"}, timeout=10)
    assert response.status_code == 200
    assert "Đăng ký khai sinh" in [p["name"] for p in response.json()["procedures"]]
    assert response.json()["version"]
    units = httpx.get(f"{stack.service_url('intake')}/units", timeout=10).json()
    assert units["province"]["code"] == "H40"
    assert len(units["departments"]) >= 18 and len(units["communes"]) == 130
    assert {u["name"] for u in units["departments"]} >= {"Sở Xây dựng", "Sở Tư pháp", "Sở Y tế"}


def test_good_submission_returns_code_due_date_and_receipt(stack: Stack) -> None:
    response = httpx.post(f"{stack.service_url('intake')}/dossiers", json=GOOD, timeout=10)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["dossier_code"].startswith("H40.101-")
    assert receipt["receipt_number"] == f"BN-{receipt['dossier_code']}"
    assert receipt["fee_vnd"] == 75000
    intake = stack.service_url("intake")
    fetched = httpx.get(
        f"{intake}/dossiers/{receipt['dossier_code']}/receipt?token={receipt['access_token']}", timeout=10
    )
    assert fetched.json() == receipt
    assert httpx.get(f"{intake}/dossiers/{receipt['dossier_code']}/receipt?token=x", timeout=10).status_code == 404
    # 15 working days, due at the end of office hours, local time
    due, received = datetime.fromisoformat(receipt["due_at"]), datetime.fromisoformat(receipt["received_at"])
    assert (due.hour, due.minute, due.utcoffset()) == (17, 0, timedelta(hours=7))
    assert timedelta(days=19) <= due - received <= timedelta(days=30)
    stored = database(stack, "intake")["dossiers"].find_one({"_id": receipt["dossier_code"]})
    assert "001203004567" not in str(stored), "identity numbers are stored only as a keyed hash"


async def test_malformed_events_are_dead_lettered_with_reason_while_others_flow(stack: Stack) -> None:
    # a faulty release of intake: it may publish on its own topic, but what it publishes is broken
    producer = AIOKafkaProducer(**stack.kafka_client("intake"), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(DossierReceived.TOPIC.name, b"{not json", key=b"garbage-1")
        broken = Envelope(
            type="dossier.received",
            source="intake",
            subject="garbage-2",
            commune="H40.101",
            correlation_id="x",
            data={"dossier_code": "garbage-2", "fee_vnd": -5},
        )
        await producer.send_and_wait(DossierReceived.TOPIC.name, broken.to_bytes(), key=b"garbage-2")
    finally:
        await producer.stop()
    receipts = await submit_and_complete(stack, count=5, rate=10, seed=3)
    await wait_all_notified(stack, [r["dossier_code"] for r in receipts])

    consumers_of_intake = [s for s in SERVICES if s not in ("intake", "signing")]

    async def parked(service: str) -> dict[bytes, str]:
        topic = dead_letter_topic(service).name
        return {
            r.key: dict(r.headers)["motcua-dlq-reason"].decode() async for r in read_topic(stack.kafka_client(), topic)
        }

    async def everywhere() -> dict[str, dict[bytes, str]]:
        return {service: await parked(service) for service in consumers_of_intake}

    # dead-lettering happens as each consumer reaches the records
    found = await eventually(
        everywhere, lambda found: all({b"garbage-1", b"garbage-2"} <= set(found[s]) for s in consumers_of_intake)
    )
    for service in consumers_of_intake:
        assert "malformed event" in found[service][b"garbage-1"]
        assert "fee_vnd" in found[service][b"garbage-2"], found[service][b"garbage-2"]

    # Replay sends digitisation's parked events back to their topic, once, for digitisation only:
    # still malformed, they are parked there again; the other consumers do not see them twice.
    async def parked_count(service: str) -> int:
        return len([r async for r in read_topic(stack.kafka_client(), dead_letter_topic(service).name)])

    before = {service: await parked_count(service) for service in consumers_of_intake}
    assert await replay(stack, "digitisation") == before["digitisation"] == 2
    await eventually(lambda: parked_count("digitisation"), lambda count: count == 4)
    after = {service: await parked_count(service) for service in consumers_of_intake}
    assert after == before | {"digitisation": 4}
