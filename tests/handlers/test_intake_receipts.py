"""Intake in process: idempotent submissions, gap-free codes, due dates, the receipt and
its slip behind the receipt's token."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import datetime, timedelta

import pytest
from motcua_contracts import DossierReceived

from services.intake import store
from services.runtime import LOCAL_TZ

from .test_intake import GOOD, MONDAY_9AM, RESIDENCE, clock_setter, running, stored


async def test_a_good_submission_answers_its_receipt_and_publishes_the_same_facts() -> None:
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json=GOOD)
        assert response.status_code == 201, response.text
        receipt = response.json()
        [received] = await intake.emitted()
        stored_dossier = await intake.documents.get("dossiers", receipt["dossier_code"])
    assert receipt["dossier_code"].startswith("H40.101-")
    assert receipt["receipt_number"] == f"BN-{receipt['dossier_code']}"
    assert receipt["procedure_name"] == "Cấp giấy phép xây dựng nhà ở riêng lẻ"
    assert receipt["fee_vnd"] == 75000
    due = datetime.fromisoformat(receipt["due_at"])
    assert (due.hour, due.minute, due.utcoffset()) == (17, 0, timedelta(hours=7))
    assert isinstance(received, DossierReceived)
    assert (received.dossier_code, received.fee_vnd, received.due_at) == (receipt["dossier_code"], 75000, due)
    assert [c.form for c in received.components] == ["electronic", "paper", "paper"]
    assert received.components[0].sha256 and received.level == "commune" and received.workflow
    # the stored dossier is the event's facts plus intake's own
    assert stored_dossier is not None
    assert {k: v for k, v in stored_dossier.items() if k in DossierReceived.model_fields} == received.model_dump()


async def test_due_dates_follow_working_days_cut_off_hours_and_calendar_days(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_clock = clock_setter(monkeypatch)
    cut_off_at_4pm = {
        **RESIDENCE,
        "procedure_code": "2.000815",  # certified copy: 1 working day, cut-off 16:00
        "channel": "online_partial",
        "components": [{"name": "Bản chính giấy tờ", "form": "paper"}],
    }
    conciliation = {  # land dispute conciliation: 30 calendar days
        **cut_off_at_4pm,
        "procedure_code": "1.012820",
        "components": [{"name": "Đơn yêu cầu hòa giải", "form": "paper"}],
    }

    async def due(client: object, body: dict, at: datetime) -> datetime:
        pin_clock(at)
        response = await client.post("/dossiers", json=body)  # type: ignore[attr-defined]
        assert response.status_code == 201, response.text
        return datetime.fromisoformat(response.json()["due_at"])

    def local(day: int, month: int = 11) -> datetime:
        return datetime(2026, month, day, 17, 0, tzinfo=LOCAL_TZ)

    async with running() as intake, intake.http() as client:
        # 7 working days from Monday 16/11, skipping the weekend and Tuesday 24/11 (a day off)
        assert await due(client, RESIDENCE, MONDAY_9AM) == local(26)
        # after office hours it counts from the next working day
        assert await due(client, RESIDENCE, MONDAY_9AM.replace(hour=17, minute=30)) == local(27)
        assert await due(client, cut_off_at_4pm, MONDAY_9AM.replace(hour=15, minute=30)) == local(17)
        assert await due(client, cut_off_at_4pm, MONDAY_9AM.replace(hour=16, minute=30)) == local(18)
        assert await due(client, conciliation, MONDAY_9AM) == local(16, month=12)


async def test_codes_are_gap_free_per_unit_and_day(monkeypatch: pytest.MonkeyPatch) -> None:
    pin_clock = clock_setter(monkeypatch)
    other_commune = {**RESIDENCE, "commune_code": "H40.102"}
    async with running() as intake, intake.http() as client:

        async def code(body: dict) -> str:
            response = await client.post("/dossiers", json=body)
            assert response.status_code == 201, response.text
            return response.json()["dossier_code"]

        pin_clock(MONDAY_9AM)
        monday = [await code(RESIDENCE), await code(other_commune), await code(RESIDENCE)]
        refused = await client.post("/dossiers", json={**RESIDENCE, "components": []})
        assert refused.status_code == 422  # takes no number
        monday.append(await code(RESIDENCE))
        pin_clock(MONDAY_9AM + timedelta(days=1))
        tuesday = [await code(RESIDENCE), await code(other_commune)]
    assert monday == ["H40.101-261116-0001", "H40.102-261116-0001", "H40.101-261116-0002", "H40.101-261116-0003"]
    assert tuesday == ["H40.101-261117-0001", "H40.102-261117-0001"]


@pytest.mark.parametrize("racing", [False, True])
async def test_a_burst_of_identical_submissions_creates_one_dossier_and_another_body_is_refused(
    racing: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if racing:  # every request looks its key up before any has committed, as on busy replicas

        async def slow_look_up(*args: object) -> object:
            found = await look_up(*args)
            await asyncio.sleep(0.05)
            return found

        look_up = store.find_submission
        monkeypatch.setattr(store, "find_submission", slow_look_up)
    headers = {"Idempotency-Key": "portal-7f3a9c21-0001"}
    async with running() as intake, intake.http() as client:
        # a double click: five identical requests at once, then a retry later
        burst = await asyncio.gather(*(client.post("/dossiers", json=RESIDENCE, headers=headers) for _ in range(5)))
        retry = await client.post("/dossiers", json=RESIDENCE, headers=headers)
        assert sorted(r.status_code for r in burst) == [200, 200, 200, 200, 201]
        assert all(r.json() == burst[0].json() for r in [*burst, retry]) and retry.status_code == 200
        assert len(await intake.emitted()) == 1
        assert stored(intake)["dossiers"] == 1

        reused = await client.post("/dossiers", json={**RESIDENCE, "commune_code": "H40.102"}, headers=headers)
        assert reused.status_code == 409
        assert "different submission" in reused.text
        assert stored(intake)["dossiers"] == 1
        # the replays took no number: the next dossier follows on
        after = (await client.post("/dossiers", json=RESIDENCE)).json()["dossier_code"]
    first = burst[0].json()["dossier_code"]
    assert int(after.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


async def test_the_receipt_opens_only_with_its_token() -> None:
    async with running() as intake, intake.http() as client:
        receipt = (await client.post("/dossiers", json=GOOD)).json()
        url = f"/dossiers/{receipt['dossier_code']}/receipt"
        assert (await client.get(url, params={"token": receipt["access_token"]})).json() == receipt
        guessed = await client.get(url, params={"token": "guess"})
        missing = await client.get(url)
        unknown = await client.get("/dossiers/H40.101-990101-0001/receipt", params={"token": receipt["access_token"]})
    # a wrong or missing token is answered like a code that does not exist
    assert guessed.status_code == missing.status_code == unknown.status_code == 404
    assert guessed.json() == missing.json() == unknown.json()


def pdf_text(content: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (not our PDF library), whitespace collapsed."""
    out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


async def test_the_receipt_slip_is_a_vietnamese_pdf_behind_the_token() -> None:
    async with running() as intake, intake.http() as client:
        receipt = (await client.post("/dossiers", json=GOOD)).json()
        code = receipt["dossier_code"]
        response = await client.get(f"/dossiers/{code}/receipt.pdf", params={"token": receipt["access_token"]})
        stranger = await client.get(f"/dossiers/{code}/receipt.pdf", params={"token": "guess"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert stranger.status_code == 404
    text = pdf_text(response.content)
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert f"Mã hồ sơ: {code}" in text
    assert GOOD["applicant"]["name"] in text
    assert "75.000 đồng" in text
    assert f"17 giờ 00, ngày {datetime.fromisoformat(receipt['due_at']):%d/%m/%Y}" in text


async def test_a_receipt_token_is_the_provinces_mac_of_the_code_and_older_receipts_still_open() -> None:
    on_paper = {**GOOD, "components": [{"name": c["name"], "form": "paper"} for c in GOOD["components"]]}
    async with running(receipt_token_key="province-a") as a, a.http() as client:
        receipt = (await client.post("/dossiers", json=on_paper)).json()
        code = receipt["dossier_code"]
        # a receipt issued before tokens were made from the code: its random token was stored
        a.documents.data["dossiers"][code]["access_token"] = "an-older-random-token-of-22"
        older = await client.get(f"/dossiers/{code}/receipt", params={"token": "an-older-random-token-of-22"})
        withdrawal = await client.post(
            f"/dossiers/{code}/withdrawal",
            params={"token": "an-older-random-token-of-22"},
            json={"owner": GOOD["applicant"]["phone"], "reason": "Không còn nhu cầu"},
        )
    async with running(receipt_token_key="province-b") as b, b.http() as client:
        same_code = (await client.post("/dossiers", json=on_paper)).json()
    assert older.status_code == 200 and withdrawal.status_code == 202
    assert same_code["dossier_code"] == code  # another key, another token: it cannot be worked out from the code
    assert len(receipt["access_token"]) >= 22 and same_code["access_token"] != receipt["access_token"]
