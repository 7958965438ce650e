"""Intake in process: the owner's requests after receipt. A supplement answers routing's
request once and moves the due date; a withdrawal is a request routing answers. Both need the
receipt's access token: the code and the owner's phone are not enough."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from motcua_contracts import (
    DossierCompleted,
    DossierRefused,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawalDeclined,
    DossierWithdrawalRequested,
    DossierWithdrawn,
    Envelope,
    Event,
)

from services.runtime import LOCAL_TZ, utcnow
from tests.harness import Harness

from .test_intake import MONDAY_9AM, clock_setter, running, uploaded
from .test_intake_tracking import OWNER, submit, track

DOCUMENT = "Giấy tờ chứng minh chỗ ở hợp pháp"


def supplement_requested(code: str, requested_at: datetime, *documents: str) -> DossierSupplementRequested:
    return DossierSupplementRequested(
        dossier_code=code,
        documents=list(documents or [DOCUMENT]),
        reason="Giấy tờ chứng minh chỗ ở chưa rõ",
        requested_by="h40101.vanhoa",
        requested_at=requested_at,
    )


async def deliver_at(intake: Harness[Any], event: Event, time: datetime) -> None:
    """Deliver `event` as published at `time` (the services' clock is pinned; the harness's is not)."""
    envelope = Envelope.wrap(event, source=event.TOPIC.owner, commune="H40.101").model_copy(update={"time": time})
    await intake.deliver_raw(envelope.to_bytes(), event.TOPIC.name, event.dossier_code.encode())


def resubmission(*names: str, owner: str = OWNER["phone"]) -> dict[str, Any]:
    return {"owner": owner, "components": [{"name": name, "form": "paper"} for name in names]}


def altered(token: str) -> str:
    """`token` with its last character changed."""
    return token[:-1] + ("B" if token.endswith("A") else "A")


def request_url(receipt: dict[str, Any], request: str) -> str:
    """The owner's `request` (supplement, withdrawal) with the receipt's access token."""
    return f"/dossiers/{receipt['dossier_code']}/{request}?token={receipt['access_token']}"


async def test_the_supplement_loop_accepts_one_resubmission_and_moves_the_due_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin_clock = clock_setter(monkeypatch)
    async with running() as intake, intake.http() as client:
        pin_clock(MONDAY_9AM)
        receipt = await submit(client)
        code = receipt["dossier_code"]
        await intake.emitted()
        url = request_url(receipt, "supplement")
        early = await client.post(url, json=resubmission(DOCUMENT))
        assert early.status_code == 409 and "not waiting for a supplement" in early.text

        requested_at = MONDAY_9AM + timedelta(hours=1)
        await deliver_at(intake, supplement_requested(code, requested_at), requested_at)
        pin_clock(MONDAY_9AM + timedelta(days=2, hours=1))  # Wednesday 10:00: Monday and Tuesday were lost
        stranger = await client.post(url, json=resubmission(DOCUMENT, owner="0900000001"))
        assert stranger.status_code == 404
        incomplete = await client.post(url, json=resubmission("Tờ khai thay đổi thông tin cư trú"))
        assert incomplete.status_code == 422 and DOCUMENT in incomplete.text
        bad_file = {"owner": OWNER["phone"], "components": [{"name": DOCUMENT, "form": "electronic"}]}
        assert (await client.post(url, json=bad_file)).status_code == 422
        assert await intake.emitted() == []

        accepted = await client.post(url, json=resubmission(DOCUMENT))
        assert accepted.status_code == 200, accepted.text
        twice = await client.post(url, json=resubmission(DOCUMENT))
        assert twice.status_code == 409

        [supplemented] = await intake.emitted()
        tracked = (await track(client, code)).json()
        receipt_now = (await client.get(f"/dossiers/{code}/receipt", params={"token": receipt["access_token"]})).json()
    # due Thursday 26/11, moved two working days past Friday 27/11: Monday 30/11
    moved = datetime(2026, 11, 30, 17, 0, tzinfo=LOCAL_TZ)
    assert datetime.fromisoformat(receipt["due_at"]) == datetime(2026, 11, 26, 17, 0, tzinfo=LOCAL_TZ)
    assert accepted.json()["paused_working_days"] == 2
    assert datetime.fromisoformat(accepted.json()["due_at"]) == moved
    assert isinstance(supplemented, DossierSupplemented)
    assert (supplemented.paused_working_days, supplemented.due_at, [c.name for c in supplemented.components]) == (
        2,
        moved,
        [DOCUMENT],
    )
    assert datetime.fromisoformat(tracked["due_at"]) == moved
    assert datetime.fromisoformat(receipt_now["due_at"]) == moved
    assert [step["status"] for step in tracked["history"]] == [
        "Đã tiếp nhận hồ sơ",
        "Yêu cầu bổ sung hồ sơ (tạm dừng thời hạn)",
        "Đã nhận hồ sơ bổ sung",
    ]


async def test_a_second_request_takes_a_second_resubmission() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submit(client)
        code, url = receipt["dossier_code"], request_url(receipt, "supplement")
        await intake.deliver(supplement_requested(code, utcnow()))
        assert (await client.post(url, json=resubmission(DOCUMENT))).status_code == 200
        await intake.deliver(supplement_requested(code, utcnow(), "Ảnh chân dung"))
        assert (await client.post(url, json=resubmission(DOCUMENT))).status_code == 422
        assert (await client.post(url, json=resubmission("Ảnh chân dung"))).status_code == 200
        assert len(await intake.emitted(DossierSupplemented)) == 2


async def test_a_withdrawal_is_a_request_that_routing_answers() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submit(client)
        code, url = receipt["dossier_code"], request_url(receipt, "withdrawal")
        await intake.emitted()
        stranger = await client.post(url, json={"owner": "0900000002", "reason": "Thử"})
        assert stranger.status_code == 404
        asked = await client.post(url, json={"owner": OWNER["identity_number"], "reason": "Không còn nhu cầu"})
        assert asked.status_code == 202, asked.text
        assert asked.json()["status"] == "withdrawal_requested" and asked.json()["dossier_code"] == code
        [requested] = await intake.emitted()
        assert isinstance(requested, DossierWithdrawalRequested) and requested.reason == "Không còn nhu cầu"
        assert datetime.fromisoformat(asked.json()["requested_at"]) == requested.requested_at

        pending = await client.post(url, json={"owner": OWNER["phone"], "reason": "Không còn nhu cầu"})
        assert pending.status_code == 409 and "pending" in pending.text
        assert await intake.emitted() == []

        # routing keeps it: the result was already approved; the owner may ask again later
        await intake.deliver(
            DossierWithdrawalDeclined(
                dossier_code=code,
                reason="kết quả đã được phê duyệt",
                status="signing",
                requested_at=requested.requested_at,
                declined_at=utcnow(),
            )
        )
        again = await client.post(url, json={"owner": OWNER["phone"], "reason": "Vẫn muốn rút"})
        assert again.status_code == 202
        [second] = await intake.emitted()
        await intake.deliver(
            DossierWithdrawn(dossier_code=code, reason=second.reason, withdrawn_at=utcnow(), requested_at=utcnow())
        )
        closed = await client.post(url, json={"owner": OWNER["phone"], "reason": "Lần nữa"})
        tracked = (await track(client, code)).json()
    assert closed.status_code == 409 and "withdrawn" in closed.text
    assert [step["status"] for step in tracked["history"]] == [
        "Đã tiếp nhận hồ sơ",
        "Công dân đề nghị rút hồ sơ",
        "Không chấp nhận rút hồ sơ: kết quả đã được phê duyệt",
        "Công dân đề nghị rút hồ sơ",
        "Công dân đã rút hồ sơ",
    ]
    assert tracked["status"] == "Công dân đã rút hồ sơ"


def completed(code: str) -> Event:
    now = utcnow()
    return DossierCompleted(dossier_code=code, result_code=f"{code}-KQ1", completed_at=now, due_at=now, outcome="early")


def refused(code: str) -> Event:
    return DossierRefused(
        dossier_code=code, reason="Không đủ điều kiện", refused_by="x", unit="H40.101", refused_at=utcnow()
    )


def withdrawn(code: str) -> Event:
    return DossierWithdrawn(dossier_code=code, reason="Không còn nhu cầu", withdrawn_at=utcnow())


@pytest.mark.parametrize(
    ("closing", "state"), [(completed, "result returned"), (refused, "refused"), (withdrawn, "withdrawn")]
)
async def test_a_closed_dossier_takes_no_more_requests(closing: Any, state: str) -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submit(client)
        code = receipt["dossier_code"]
        await intake.deliver(supplement_requested(code, utcnow()))
        await intake.deliver(closing(code))
        await intake.emitted()
        withdrawal = await client.post(
            request_url(receipt, "withdrawal"), json={"owner": OWNER["phone"], "reason": "Muộn"}
        )
        supplement = await client.post(request_url(receipt, "supplement"), json=resubmission(DOCUMENT))
        assert await intake.emitted() == []
    assert withdrawal.status_code == supplement.status_code == 409
    assert state in withdrawal.text and state in supplement.text


async def test_an_uploaded_supplement_is_checked_like_a_submission() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submit(client)
        code, url = receipt["dossier_code"], request_url(receipt, "supplement")
        await intake.deliver(supplement_requested(code, utcnow()))
        good = uploaded(DOCUMENT, b"%PDF-1.7 scan")
        upload = {"owner": OWNER["phone"], "components": [{**good, "upload_token": "forged"}]}
        refused_file = await client.post(url, json=upload)
        accepted = await client.post(url, json=upload | {"components": [good]})
        [supplemented] = await intake.emitted(DossierSupplemented)
    assert refused_file.status_code == 422 and "did not answer this upload" in refused_file.text
    assert accepted.status_code == 200
    assert (supplemented.components[0].sha256, supplemented.components[0].document_id) == (
        good["sha256"],
        good["document_id"],
    )


async def test_the_code_and_the_owners_phone_are_not_enough_to_change_a_dossier() -> None:
    """Codes are sequential and phone numbers are on many papers: without the receipt's access
    token a stranger can neither withdraw nor supplement, and learns nothing: a missing, wrong or
    another dossier's token gets exactly the answer of a code that does not exist."""
    async with running() as intake, intake.http() as client:
        receipt, other = await submit(client), await submit(client)
        code = receipt["dossier_code"]
        await intake.deliver(supplement_requested(code, utcnow()))
        await intake.emitted()
        requests = {
            "withdrawal": {"owner": OWNER["phone"], "reason": "Không còn nhu cầu"},
            "supplement": resubmission(DOCUMENT),
        }
        for request, body in requests.items():
            unknown = await client.post(f"/dossiers/H40.101-990101-0001/{request}", json=body)
            tries = [
                await client.post(f"/dossiers/{code}/{request}", json=body),  # the code and the phone
                await client.post(f"/dossiers/{code}/{request}?token=", json=body),
                await client.post(f"/dossiers/{code}/{request}?token={altered(receipt['access_token'])}", json=body),
                await client.post(f"/dossiers/{code}/{request}?token={other['access_token']}", json=body),
                await client.post(request_url(receipt, request), json={**body, "owner": "0900000001"}),
            ]
            assert unknown.status_code == 404
            assert [(r.status_code, r.json()) for r in tries] == [(404, unknown.json())] * len(tries), request
        assert await intake.emitted() == []
        assert [step["status"] for step in (await track(client, code)).json()["history"]] == [
            "Đã tiếp nhận hồ sơ",
            "Yêu cầu bổ sung hồ sơ (tạm dừng thời hạn)",
        ]

        supplemented = await client.post(request_url(receipt, "supplement"), json=requests["supplement"])
        withdrawn = await client.post(request_url(receipt, "withdrawal"), json=requests["withdrawal"])
    assert supplemented.status_code == 200 and withdrawn.status_code == 202
