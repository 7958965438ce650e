"""Intake in process: the fee assessed at receipt from the catalogue (per-unit lines, phí and
lệ phí apart, exemptions), carried by `dossier.received` and the receipt, with the link to pay
it online and until when, on the receipt, its slip and the tracking page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from motcua_contracts import DossierReceived, PaymentCompleted, PaymentRequested

from services.runtime import utcnow
from services.runtime.receipts import pays

from .test_intake import MONDAY_9AM, RESIDENCE, STATE, clock_setter, running, stored, uploaded
from .test_intake_receipts import pdf_text

EXTRACTS: dict[str, Any] = {  # bản sao trích lục hộ tịch: 8,000 VND a copy
    **RESIDENCE,
    "procedure_code": "1.003583",
    "components": [uploaded("Tờ khai cấp bản sao trích lục hộ tịch")],
    "quantity": 3,
}
SOCIAL_PROTECTION = {"ground": "social_protection", "reason": "Thẻ BTXH số 40-0123456"}
EXEMPT_RESIDENCE: dict[str, Any] = {**RESIDENCE, "exemption": SOCIAL_PROTECTION}  # 20,000 VND lệ phí, waived
BIRTH: dict[str, Any] = {  # birth registration: free
    **RESIDENCE,
    "procedure_code": "1.001193",
    "components": [uploaded("Tờ khai đăng ký khai sinh"), {"name": "Giấy chứng sinh", "form": "paper"}],
}


async def submitted(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/dossiers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_per_copy_dossier_carries_its_lines_and_total_in_the_event_and_the_receipt() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submitted(client, EXTRACTS)
        [received] = await intake.emitted()
    assert isinstance(received, DossierReceived)
    assert [line.model_dump() for line in received.fee_lines] == [
        {
            "kind": "fee",
            "name": "Phí cấp bản sao trích lục hộ tịch",
            "unit_vnd": 8000,
            "quantity": 3,
            "unit": "bản",
            "amount_vnd": 24000,
        }
    ]
    assert received.fee_vnd == receipt["fee_vnd"] == 24000 and received.exemption is None
    assert receipt["fee_lines"] == [line.model_dump() for line in received.fee_lines]


async def test_phi_and_le_phi_lines_are_summed() -> None:
    first_certificate = {  # land certificate, first time: phí thẩm định and lệ phí cấp giấy
        **RESIDENCE,
        "procedure_code": "1.012755",
        "channel": "online_partial",
        "components": [
            {"name": name, "form": "paper"}
            for name in ("Đơn đăng ký, cấp giấy chứng nhận", "Giấy tờ về quyền sử dụng đất", "Sơ đồ thửa đất")
        ],
    }
    async with running() as intake, intake.http() as client:
        receipt = await submitted(client, first_certificate)
    assert [(line["kind"], line["amount_vnd"]) for line in receipt["fee_lines"]] == [("fee", 75000), ("charge", 25000)]
    assert receipt["fee_vnd"] == 100000


async def test_an_exemption_is_recorded_with_its_reason_and_nothing_is_to_pay() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submitted(client, EXEMPT_RESIDENCE)
        [received] = await intake.emitted()
    assert received.fee_vnd == receipt["fee_vnd"] == 0
    assert [line.amount_vnd for line in received.fee_lines] == [20000]  # what was waived, line by line
    assert received.exemption is not None
    assert received.exemption.model_dump() == {
        "ground": "social_protection",
        "label": "Đối tượng hưởng chính sách bảo trợ xã hội",
        "reason": "Thẻ BTXH số 40-0123456",
        "waived_vnd": 20000,
    }
    assert receipt["exemption"] == received.exemption.model_dump()
    assert received.pay_by is None and receipt["pay_by"] is None and receipt["pay_url"] is None


@pytest.mark.parametrize(
    ("body", "kind", "message"),
    [
        (
            {**RESIDENCE, "exemption": {"ground": "karaoke_owner", "reason": "Giấy phép số 12"}},
            "exemption_not_applicable",
            "no exemption ground 'karaoke_owner'",
        ),
        ({**BIRTH, "exemption": SOCIAL_PROTECTION}, "no_fee_to_exempt", "nothing to exempt"),
    ],
)
async def test_an_exemption_the_procedure_does_not_grant_is_refused_by_name(
    body: dict[str, Any], kind: str, message: str
) -> None:
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json=body)
    assert response.status_code == 422
    [problem] = response.json()["detail"]["problems"]
    assert problem["kind"] == kind and message in problem["message"]
    assert stored(intake) == dict.fromkeys(STATE, 0)


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": 0},
        {"quantity": 1001},
        {"exemption": {"ground": "social_protection", "reason": "x"}},
        {"exemption": {"ground": "Social Protection", "reason": "Thẻ BTXH số 1"}},
    ],
)
async def test_a_malformed_quantity_or_exemption_is_refused_by_name(change: dict[str, Any]) -> None:
    async with running() as intake, intake.http() as client:
        response = await client.post("/dossiers", json={**EXTRACTS, **change})
    assert response.status_code == 422
    assert next(iter(change)) in response.text
    assert stored(intake) == dict.fromkeys(STATE, 0)


async def test_the_receipt_links_the_payment_page_with_a_pay_token_and_says_until_when(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock_setter(monkeypatch)(MONDAY_9AM)
    async with running() as intake, intake.http() as client:
        receipt = await submitted(client, RESIDENCE)
        [received] = await intake.emitted()
        again = await client.get(
            f"/dossiers/{receipt['dossier_code']}/receipt", params={"token": receipt["access_token"]}
        )
        key = intake.context.settings.receipt_key()
    code = receipt["dossier_code"]
    pay_url = urlsplit(receipt["pay_url"])
    assert f"{pay_url.scheme}://{pay_url.netloc}" == "http://127.0.0.1:8003"  # payment's development address
    assert pay_url.path == f"/pay/{code}"
    [token] = parse_qs(pay_url.query)["token"]
    assert pays(key, code, token)  # payment opens its page with it...
    assert not pays(key, code + "9", token) and token != receipt["access_token"]  # ...for this dossier only
    received_at = datetime.fromisoformat(receipt["received_at"])
    assert datetime.fromisoformat(receipt["pay_by"]) == received_at + timedelta(hours=72) == received.pay_by
    assert again.json() == receipt


async def test_the_payment_window_and_address_are_the_deployments() -> None:
    async with (
        running(payment_window_hours=24, payment_url="https://thanhtoan.example.vn") as intake,
        intake.http() as client,
    ):
        receipt = await submitted(client, RESIDENCE)
    received_at = datetime.fromisoformat(receipt["received_at"])
    assert datetime.fromisoformat(receipt["pay_by"]) == received_at + timedelta(hours=24)
    assert receipt["pay_url"].startswith(f"https://thanhtoan.example.vn/pay/{receipt['dossier_code']}?token=")


async def test_a_free_dossier_has_nothing_to_pay() -> None:
    async with running() as intake, intake.http() as client:
        receipt = await submitted(client, BIRTH)
        [received] = await intake.emitted()
    assert (receipt["fee_vnd"], receipt["fee_lines"], receipt["pay_by"], receipt["pay_url"]) == (0, [], None, None)
    assert received.fee_lines == [] and received.pay_by is None


async def test_the_slip_prints_each_line_the_exemption_and_the_payment_link() -> None:
    async with running() as intake, intake.http() as client:
        copies = await submitted(client, EXTRACTS)
        exempt = await submitted(client, EXEMPT_RESIDENCE)
        slips = [
            await client.get(f"/dossiers/{r['dossier_code']}/receipt.pdf", params={"token": r["access_token"]})
            for r in (copies, exempt)
        ]
    to_pay, waived = (pdf_text(slip.content) for slip in slips)
    assert "Phí: Phí cấp bản sao trích lục hộ tịch, 3 bản × 8.000 đồng = 24.000 đồng" in to_pay
    assert "Tổng số tiền phải nộp: 24.000 đồng" in to_pay
    pay_by = datetime.fromisoformat(copies["pay_by"])
    assert f"Thanh toán trực tuyến trước {pay_by:%H} giờ {pay_by:%M}, ngày {pay_by:%d/%m/%Y}" in to_pay
    assert copies["pay_url"] in to_pay.replace(" ", "")  # the link may wrap
    assert "Lệ phí: Lệ phí đăng ký thường trú: 20.000 đồng" in waived
    assert "Đối tượng hưởng chính sách bảo trợ xã hội (Thẻ BTXH số 40-0123456)" in waived
    assert "số tiền được miễn: 20.000 đồng" in waived and "Tổng số tiền phải nộp: 0 đồng" in waived
    assert "Thanh toán trực tuyến" not in waived


async def test_tracking_shows_the_payment_link_while_the_fee_waits_and_not_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin_clock = clock_setter(monkeypatch)
    pin_clock(MONDAY_9AM)
    owner = RESIDENCE["applicant"]["phone"]
    async with running() as intake, intake.http() as client:
        paid, late, exempt = [await submitted(client, body) for body in (RESIDENCE, RESIDENCE, EXEMPT_RESIDENCE)]

        async def payment(receipt: dict[str, Any]) -> Any:
            response = await client.post("/api/track", json={"code": receipt["dossier_code"], "owner": owner})
            assert response.status_code == 200, response.text
            return response.json()["payment"]

        waiting = await payment(paid)
        code = paid["dossier_code"]
        await intake.deliver(PaymentRequested(dossier_code=code, reference="PAY-1", amount_vnd=20000, gateway="g"))
        still_waiting = await payment(paid)
        await intake.deliver(
            PaymentCompleted(
                dossier_code=code, reference="PAY-1", amount_vnd=20000, gateway_transaction="T-1", paid_at=utcnow()
            )
        )
        after_payment = await payment(paid)
        nothing_to_pay = await payment(exempt)
        pin_clock(MONDAY_9AM + timedelta(hours=73))  # past the online payment window
        too_late = await payment(late)
    assert waiting == still_waiting == {"amount_vnd": 20000, "pay_by": paid["pay_by"], "pay_url": paid["pay_url"]}
    assert after_payment is None and nothing_to_pay is None
    assert too_late == {"amount_vnd": 20000, "pay_by": late["pay_by"], "pay_url": None}  # at the counter now


async def test_the_tracking_page_shows_the_payment_link_and_deadline() -> None:
    async with running() as intake, intake.http() as client:
        page = (await client.get("/track")).text
    assert 'id="pay-link"' in page and 'id="pay-by"' in page and "Thanh toán trực tuyến trước" in page
