"""A dossier's fee assessed from its procedure's fee rule: per-unit lines, caps, phí and lệ phí
apart, and exemptions, with worked numbers from the sample catalogue."""

from __future__ import annotations

import pytest
from motcua_contracts import FeeLine

from services.intake.catalogue import Catalogue, Fee, FeeRule, Procedure, parse_catalogue
from services.intake.fees import NotApplicable, assess
from services.intake.settings import SAMPLE_CATALOGUE
from services.intake.submission import ExemptionIn

CATALOGUE: Catalogue = parse_catalogue(SAMPLE_CATALOGUE.read_text(encoding="utf-8"))


def procedure(code: str) -> Procedure:
    found = CATALOGUE.get(code)
    assert found is not None, code
    return found


def test_a_per_copy_fee_is_the_price_times_the_copies() -> None:
    extract = assess(procedure("1.003583"), quantity=3)  # bản sao trích lục hộ tịch: 8,000 VND a copy
    assert extract.lines == (
        FeeLine(
            kind="fee",
            name="Phí cấp bản sao trích lục hộ tịch",
            unit_vnd=8000,
            quantity=3,
            unit="bản",
            amount_vnd=24000,
        ),
    )
    assert extract.total_vnd == 24000 and extract.due and extract.exemption is None


def test_a_per_page_fee_stops_at_its_cap() -> None:
    copy = procedure("2.000815")  # chứng thực bản sao: 2,000 VND a page, at most 200,000 a copy
    assert assess(copy, quantity=5).total_vnd == 10000
    assert assess(copy, quantity=100).total_vnd == 200000
    [capped] = assess(copy, quantity=150).lines
    assert (capped.unit_vnd, capped.quantity, capped.unit, capped.amount_vnd) == (2000, 150, "trang", 200000)


def test_fee_and_charge_lines_stay_apart_and_are_summed() -> None:
    first_certificate = assess(procedure("1.012755"), quantity=4)  # fixed lines ignore the quantity
    assert [(line.kind, line.quantity, line.amount_vnd) for line in first_certificate.lines] == [
        ("fee", 1, 75000),  # phí thẩm định hồ sơ
        ("charge", 1, 25000),  # lệ phí cấp giấy chứng nhận
    ]
    assert first_certificate.total_vnd == 100000


def test_a_free_procedure_owes_nothing() -> None:
    birth = assess(procedure("1.001193"))
    assert birth.lines == () and birth.total_vnd == 0 and not birth.due


def test_an_exemption_waives_the_total_and_records_why() -> None:
    claim = ExemptionIn(ground="social_protection", reason="Thẻ BTXH số 40-0123456")
    residence = assess(procedure("1.004194"), exemption_claim=claim)  # 20,000 VND lệ phí
    assert residence.total_vnd == 0 and not residence.due
    assert [line.amount_vnd for line in residence.lines] == [20000]  # what it would have been, line by line
    assert residence.exemption is not None
    assert residence.exemption.model_dump() == {
        "ground": "social_protection",
        "label": "Đối tượng hưởng chính sách bảo trợ xã hội",
        "reason": "Thẻ BTXH số 40-0123456",
        "waived_vnd": 20000,
    }


def test_an_exemption_needs_a_fee_and_one_of_the_procedures_grounds() -> None:
    claim = ExemptionIn(ground="poor_household", reason="Sổ hộ nghèo số 123")
    with pytest.raises(NotApplicable, match="no exemption ground 'poor_household'"):
        assess(procedure("1.009994"), exemption_claim=claim)  # a building permit exempts no one
    with pytest.raises(NotApplicable, match="nothing to exempt"):
        assess(procedure("1.001193"), exemption_claim=claim)


def test_two_per_unit_lines_share_the_quantity_each_within_its_own_cap() -> None:
    rule = Fee(
        (
            FeeRule("fee", "Phí sao y", per_unit_vnd=3000, unit="trang", max_vnd=20000),
            FeeRule("charge", "Lệ phí cấp bản sao", per_unit_vnd=1000, unit="trang"),
            FeeRule("charge", "Lệ phí hồ sơ", amount_vnd=5000),
        )
    )
    copies = assess(Procedure.from_row(procedure("2.000815").as_row() | {"fee": rule.as_row()}), quantity=10)
    assert [line.amount_vnd for line in copies.lines] == [20000, 10000, 5000]
    assert copies.total_vnd == 35000


def test_a_quantity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        assess(procedure("1.003583"), quantity=0)
