"""Intake in process: public tracking for the owner only, rate-limited per client (the client a
trusted proxy names, the budget shared by replicas), and the one history of a dossier built
from every service's events as they arrive through intake's subscriber."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from motcua_contracts import (
    CitizenNotified,
    DossierApologised,
    DossierApproved,
    DossierAssigned,
    DossierCompleted,
    DossierDigitised,
    DossierDueSoon,
    DossierRefused,
    DossierStepStarted,
    DossierTransferred,
    Envelope,
    PaymentCancelled,
    PaymentCompleted,
    PaymentRequested,
)

from services.intake.app import PROGRESS
from services.intake.timeline import LABELS
from services.runtime import utcnow
from tests import harness
from tests.harness import Harness

from .events import signed
from .test_intake import MONDAY_9AM, RESIDENCE, clock_setter, running

OWNER = RESIDENCE["applicant"]


async def submit(client: Any) -> dict[str, Any]:
    response = await client.post("/dossiers", json=RESIDENCE)
    assert response.status_code == 201, response.text
    return response.json()


async def track(client: Any, code: str, owner: str = OWNER["phone"], headers: dict[str, str] | None = None) -> Any:
    return await client.post("/api/track", json={"code": code, "owner": owner}, headers=headers)


async def test_an_owner_in_other_scripts_digits_is_refused_as_bad_input() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submit(client)
        arabic_indic = OWNER["phone"].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        response = await track(client, receipt["dossier_code"], arabic_indic)
    assert response.status_code == 422 and ["body", "owner"] in [p["loc"] for p in response.json()["detail"]]


async def test_the_owner_tracks_by_phone_or_identity_number() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submit(client)
        for owner in (OWNER["phone"], OWNER["identity_number"], f" {OWNER['phone']} "):
            response = await track(client, receipt["dossier_code"], owner)
            assert response.status_code == 200, owner
            body = response.json()
            assert body["procedure_name"] == "Đăng ký thường trú"
            assert body["due_at"] == receipt["due_at"] and body["new_due_at"] is None
            assert body["status"] == "Đã tiếp nhận hồ sơ"
            assert [step["status"] for step in body["history"]] == ["Đã tiếp nhận hồ sơ"]


async def test_a_wrong_owner_gets_exactly_the_unknown_code_answer() -> None:
    async with running() as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]
        wrong_owner = await track(client, code, "0900000001")
        wrong_identity = await track(client, code, "001203009999")
        unknown = await track(client, "H40.101-990101-0001")
    assert wrong_owner.status_code == wrong_identity.status_code == unknown.status_code == 404
    assert wrong_owner.json() == wrong_identity.json() == unknown.json()


async def test_look_ups_are_rate_limited_per_client(monkeypatch: pytest.MonkeyPatch) -> None:
    clock_setter(monkeypatch)(MONDAY_9AM + timedelta(seconds=20))  # 40 s before the minute is over
    async with running(tracking_per_minute=3) as intake, intake.http() as client:
        receipt = await submit(client)
        code = receipt["dossier_code"]
        statuses = [(await track(client, code)).status_code for _ in range(3)]
        refused = await track(client, code)
        # every owner check counts, whatever it is for, even with the receipt's token
        withdrawal = await client.post(
            f"/dossiers/{code}/withdrawal",
            params={"token": receipt["access_token"]},
            json={"owner": OWNER["phone"], "reason": "Thử"},
        )
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and 30 <= int(refused.headers["retry-after"]) <= 40  # until the minute's end
    assert f"sau {refused.headers['retry-after']} giây" in refused.json()["detail"]
    assert withdrawal.status_code == 429


async def test_a_rotating_x_forwarded_for_does_not_open_a_new_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    clock_setter(monkeypatch)(MONDAY_9AM)
    async with running(tracking_per_minute=3) as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]
        statuses = [
            (await track(client, code, headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]  # no proxy is trusted: the header is anyone's to write


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    clock_setter(monkeypatch)(MONDAY_9AM)
    # the harness's requests come from 127.0.0.1, the proxy here
    async with running(tracking_per_minute=2, trusted_proxies="127.0.0.1") as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]

        async def from_client(forwarded: str) -> int:
            return (await track(client, code, headers={"X-Forwarded-For": forwarded})).status_code

        first = [await from_client(f"{spoofed}, 203.0.113.7") for spoofed in ("1.1.1.1", "2.2.2.2", "3.3.3.3")]
        other = [await from_client("203.0.113.8") for _ in range(2)]
        same_64 = [await from_client(address) for address in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3")]
    assert first == [200, 200, 429]  # what the client wrote left of the proxy's entry opens nothing
    assert other == [200, 200]
    assert same_64 == [200, 200, 429]  # an IPv6 client is counted by its /64 network


async def test_replicas_share_one_budget_through_their_database(monkeypatch: pytest.MonkeyPatch) -> None:
    clock_setter(monkeypatch)(MONDAY_9AM)
    async with running(tracking_per_minute=3) as first, first.http() as to_first:
        code = (await submit(to_first))["dossier_code"]
        monkeypatch.setattr(harness, "MemoryDocuments", lambda: first.documents)  # the second replica's database
        async with running(tracking_per_minute=3) as second, second.http() as to_second:
            assert second.documents is first.documents
            statuses = [(await track(client, code)).status_code for client in (to_first, to_second, to_first)]
            refused = await track(to_second, code)
            metrics = (await to_second.get("/metrics")).text
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 30
    assert 'motcua_requests_limited_total{limit="lookups_per_minute",service="intake"} 1.0' in metrics


async def test_the_tracking_page_is_served() -> None:
    async with running() as intake, intake.http() as client:
        page = await client.get("/track", params={"code": "H40.101-261116-0001"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'fetch("/api/track"' in page.text


def journey(code: str) -> list[Any]:
    """What the other services publish about a dossier on its way, internal steps included."""
    now = utcnow()
    due = now + timedelta(days=9)
    return [
        DossierStepStarted(
            dossier_code=code,
            workflow="commune-standard",
            workflow_version=1,
            step="receive",
            step_name="Tiếp nhận",
            unit="H40.101",
            role="reception",
            started_at=now,
            step_due_at=due,
        ),
        DossierDigitised(dossier_code=code, components=[], digitised_at=now),
        PaymentRequested(dossier_code=code, reference="PAY-1", amount_vnd=20000, gateway="sandbox"),
        DossierAssigned(
            dossier_code=code, step="review", unit="H40.101", holder="h1", assigned_by="h1", assigned_at=now
        ),
        PaymentCompleted(dossier_code=code, reference="PAY-1", amount_vnd=20000, gateway_transaction="T1", paid_at=now),
        DossierTransferred(
            dossier_code=code, from_unit="H40.101", to_unit="000.16.01.H40", step="x", transferred_at=now
        ),
        DossierDueSoon(dossier_code=code, due_at=due, unit="H40.101"),
        DossierApproved(dossier_code=code, competent_unit="H40.101", approved_by="Nguyễn Văn Minh", result_title="KQ"),
        signed(code, now),
        DossierCompleted(dossier_code=code, result_code=f"{code}-KQ1", completed_at=now, due_at=due, outcome="early"),
        CitizenNotified(dossier_code=code, channel="sms", template="result_ready", recipient="091****678", sent_at=now),
    ]


async def deliver_all(intake: Harness[Any], events: list[Any]) -> None:
    for event in events:
        await intake.deliver(event, commune="H40.101")


async def test_the_history_is_built_from_every_services_events_without_internal_steps() -> None:
    async with running() as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]
        await deliver_all(intake, journey(code))
        body = (await track(client, code)).json()
    assert [step["status"] for step in body["history"]] == [
        "Đã tiếp nhận hồ sơ",
        "Đã số hóa thành phần hồ sơ",
        "Chờ thanh toán phí, lệ phí",
        "Đã thanh toán phí, lệ phí",
        "Chuyển xử lý liên thông",
        "Đã phê duyệt, chờ ký số kết quả",
        "Đã ký số kết quả",
        "Đã có kết quả, trả kết quả",
        "Đã thông báo cho công dân",
    ]
    assert body["status"] == "Đã có kết quả, trả kết quả"  # a notice is not a status


def test_every_event_of_the_public_history_has_a_vietnamese_label() -> None:
    own = {"dossier.received", "dossier.supplemented", "dossier.withdrawal_requested"}
    assert {event.TYPE for event in PROGRESS} | own <= set(LABELS)
    assert {"payment.cancelled", "dossier.withdrawn", "dossier.withdrawal_declined"} <= {e.TYPE for e in PROGRESS}


async def test_cancelled_payment_refusal_and_apology_reach_the_history() -> None:
    async with running() as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]
        new_due = utcnow() + timedelta(days=20)
        await deliver_all(
            intake,
            [
                PaymentCancelled(
                    dossier_code=code, reference="PAY-1", reason="dossier withdrawn", cancelled_at=utcnow()
                ),
                DossierApologised(
                    dossier_code=code,
                    reason="Cần xác minh thêm",
                    due_at=utcnow(),
                    new_due_at=new_due,
                    apologised_by="Chủ tịch",
                    unit="H40.101",
                    apologised_at=utcnow(),
                ),
                DossierRefused(
                    dossier_code=code, reason="Không đủ điều kiện", refused_by="x", unit="H40.101", refused_at=utcnow()
                ),
            ],
        )
        body = (await track(client, code)).json()
    assert [step["status"] for step in body["history"]][1:] == [
        "Đã hủy yêu cầu thanh toán phí, lệ phí",
        "Xin lỗi và hẹn lại ngày trả kết quả",
        "Từ chối giải quyết hồ sơ",
    ]
    assert body["status"] == "Từ chối giải quyết hồ sơ"
    assert datetime.fromisoformat(body["new_due_at"]) == new_due


async def test_a_redelivered_event_adds_no_second_step() -> None:
    async with running() as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]
        envelope = await intake.deliver(DossierDigitised(dossier_code=code, components=[], digitised_at=utcnow()))
        await intake.deliver_raw(envelope.to_bytes(), DossierDigitised.TOPIC.name, code.encode())
        history = (await track(client, code)).json()["history"]
    assert [step["status"] for step in history] == ["Đã tiếp nhận hồ sơ", "Đã số hóa thành phần hồ sơ"]


async def test_malformed_events_are_dead_lettered_and_the_others_flow_on() -> None:
    async with running() as intake, intake.http() as client:
        code = (await submit(client))["dossier_code"]
        await intake.deliver_raw(b"{not json", DossierRefused.TOPIC.name, b"garbage-1")
        broken = Envelope(
            type=DossierRefused.TYPE,
            source="routing",
            subject=code,
            commune="H40.101",
            correlation_id="x",
            data={"dossier_code": code, "refused_by": "x"},  # no reason, unit nor time
        )
        await intake.deliver_raw(  # marked as raw bytes, as the harness's dead-letter listener reads them
            broken.to_bytes(), DossierRefused.TOPIC.name, code.encode(), {"content-type": "application/octet-stream"}
        )
        await intake.deliver(DossierDigitised(dossier_code=code, components=[], digitised_at=utcnow()))
        body = (await track(client, code)).json()
    assert [(key, reason.split(":")[0]) for key, reason in intake.dead_letters] == [
        (b"garbage-1", "malformed event"),
        (code.encode(), "malformed event"),
    ]
    assert "reason" in intake.dead_letters[1][1]
    assert [step["status"] for step in body["history"]] == ["Đã tiếp nhận hồ sơ", "Đã số hóa thành phần hồ sơ"]
